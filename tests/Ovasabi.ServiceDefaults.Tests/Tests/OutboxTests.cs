using System.Text.Json;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>An event written with its change is published once from the outbox, with the row's id as CloudEvent id.</summary>
[Collection(ProbeCollection.Name)]
public sealed class OutboxTests(ProbePlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_write_and_its_event_are_published_once_with_the_row_id_as_CloudEvent_id_and_stamped()
    {
        var item = await CreateAsync(Names.Unique("item"));

        var received = Assert.Single(await platform.ItemEventsAsync(item.EventId));
        Assert.Equal(platform.Topics.ItemCreated, received.Event.Type);
        Assert.Equal(platform.AppId, received.Event.Source);
        using var data = JsonDocument.Parse(received.Event.Data.ToStringUtf8());
        Assert.Equal(item.ItemId, data.RootElement.GetProperty("itemId").GetString());
        Assert.Equal(item.Name, data.RootElement.GetProperty("name").GetString());
        var row = await Eventually.Async(() => platform.OutboxRowAsync(item.EventId), r => r?.PublishedAt is not null, "published_at to be stamped");
        Assert.Equal(0, row!.Attempts);
        Assert.Null(row.LastError);

        await AfterLaterEventsArrivedAsync();
        Assert.Single(platform.Seen(platform.Topics.ItemCreated, item.EventId));
    }

    [Fact]
    public async Task A_transaction_that_fails_after_saving_writes_neither_the_change_nor_the_event()
    {
        var name = Names.Unique("rolled-back");

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = name, FailBeforeCommit = true }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal(0, await ItemsNamedAsync(name));
        Assert.Equal(0, await EventsNamingAsync(name));
        await AfterLaterEventsArrivedAsync();
        Assert.DoesNotContain(platform.Subscriber.All, r => r.Kind == "event" && r.Event.Data.ToStringUtf8().Contains(name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_SaveChanges_the_database_refuses_writes_no_event()
    {
        var name = Names.Unique("taken");
        var first = await CreateAsync(name);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = name }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal(2, await ItemsNamedAsync(name)); // its probe_item and master rows
        Assert.Equal(1, await EventsNamingAsync(name));
        await platform.ItemEventsAsync(first.EventId);
        await AfterLaterEventsArrivedAsync();
        Assert.Single(platform.Subscriber.All, r => r.Kind == "event" && r.Event.Data.ToStringUtf8().Contains(name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_event_the_broker_refuses_is_set_aside_with_its_own_backoff_and_does_not_hold_up_later_events()
    {
        var refused = await platform.Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("refused"), Topic = platform.Topics.Refused }, cancellationToken: Cancel);
        var later = await CreateAsync(Names.Unique("later"));

        await platform.ItemEventsAsync(later.EventId);
        var row = await Eventually.Async(() => platform.OutboxRowAsync(refused.EventId), r => r!.Attempts >= 1, "the refused event to be tried");

        Assert.Null(row!.PublishedAt);
        Assert.Contains(platform.Topics.Refused, row.LastError, StringComparison.Ordinal);
        Assert.NotNull(row.NextAttemptIn);
    }

    [Fact]
    public async Task Two_dispatchers_on_one_database_never_publish_a_row_twice()
    {
        await using var second = await ProbeHost.StartAsync(platform.SettingsFor(Testing.FreePort.Next()) with { MigrateOnStartup = false }, Cancel);
        var hosts = new[] { platform.Probe, second };

        // Both hosts write at once, so both dispatchers are woken for the same rows.
        var items = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            hosts[i % 2].Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique($"pair{i}") }, cancellationToken: Cancel).ResponseAsync));

        foreach (var item in items)
        {
            await platform.ItemEventsAsync(item.EventId);
        }
        await AfterLaterEventsArrivedAsync();
        Assert.All(items, item => Assert.Single(platform.Seen(platform.Topics.ItemCreated, item.EventId)));
        var rows = await Task.WhenAll(items.Select(item => platform.OutboxRowAsync(item.EventId)));
        Assert.All(rows, row => Assert.NotNull(row!.PublishedAt));
    }

    private async Task<Item> CreateAsync(string name) =>
        await platform.Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = name }, cancellationToken: Cancel);

    /// <summary>
    /// Writes one more event and waits until it arrives: whatever was (wrongly) published before it had its chance to
    /// arrive too, so "not received" and "received once" can be checked without a fixed sleep.
    /// </summary>
    private async Task AfterLaterEventsArrivedAsync()
    {
        var marker = await CreateAsync(Names.Unique("marker"));
        await platform.ItemEventsAsync(marker.EventId);
    }

    /// <summary>The probe_item and master rows with this name.</summary>
    private Task<long> ItemsNamedAsync(string name) =>
        platform.CountAsync("SELECT (SELECT count(*) FROM probe_item WHERE name = @name) + (SELECT count(*) FROM master WHERE name = @name)", ("name", name));

    private Task<long> EventsNamingAsync(string name) =>
        platform.CountAsync("SELECT count(*) FROM service_event WHERE payload ->> 'name' = @name", ("name", name));
}
