using System.Net;
using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>
/// With its sidecar gone the probe keeps its events (the outbox retries them and delivers each once when a sidecar is
/// back on the same ports) and says it is not ready.
/// </summary>
public sealed class SidecarOutageTests(ProbePlatform platform) : IClassFixture<ProbePlatform>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private ProbeHost Probe => platform.Probe;

    [Fact]
    public async Task Events_written_while_the_sidecar_is_down_stay_unpublished_and_are_delivered_once_when_it_is_back()
    {
        await platform.Sidecar.StopAsync();
        Item item;
        OutboxRow whileDown;
        try
        {
            item = await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("offline") }, cancellationToken: Cancel);
            var first = await Eventually.Async(() => platform.OutboxRowAsync(item.EventId), r => r is { Attempts: >= 1, LastError: not null },
                "the dispatcher to fail publishing", context: Probe.Logs.ToString);
            whileDown = (await Eventually.Async(() => platform.OutboxRowAsync(item.EventId), r => r!.Attempts > first!.Attempts,
                "the dispatcher to try again", context: Probe.Logs.ToString))!;
        }
        finally
        {
            await platform.Sidecar.StartAgainAsync();
        }

        Assert.Null(whileDown.PublishedAt);
        Assert.Contains("Unavailable", whileDown.LastError, StringComparison.Ordinal);
        Assert.Empty(platform.Seen(platform.Topics.ItemCreated, item.EventId));
        await platform.ItemEventsAsync(item.EventId);
        var row = await Eventually.Async(() => platform.OutboxRowAsync(item.EventId), r => r!.PublishedAt is not null, "published_at to be stamped");
        Assert.Null(row!.LastError);
        var marker = await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("marker") }, cancellationToken: Cancel);
        await platform.ItemEventsAsync(marker.EventId);
        Assert.Single(platform.Seen(platform.Topics.ItemCreated, item.EventId));
    }

    [Fact]
    public async Task A_call_that_needs_the_sidecar_while_it_is_down_is_Unavailable_not_Internal_and_works_again_when_it_is_back()
    {
        await platform.Sidecar.StopAsync();
        RpcException error;
        try
        {
            error = await Assert.ThrowsAsync<RpcException>(async () =>
                await Probe.Probe.PostNoteAsync(new Note { Key = "while-down" }, cancellationToken: Cancel));
        }
        finally
        {
            await platform.Sidecar.StartAgainAsync();
        }

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("DEPENDENCY_UNAVAILABLE", error.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
        // The SDK's gRPC channel reconnects with its own backoff, so the call works again a little after the restart.
        await Eventually.Until(async () =>
        {
            try
            {
                await Probe.Probe.PostNoteAsync(new Note { Key = "after" }, cancellationToken: Cancel);
                return true;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }
        }, "the call to work again once the sidecar is back", context: Probe.Logs.ToString);
    }

    [Fact]
    public async Task Readyz_is_503_naming_the_sidecar_and_gRPC_health_NOT_SERVING_until_the_sidecar_is_back()
    {
        await Probe.WaitReadyAsync();

        await platform.Sidecar.StopAsync();
        string notReady;
        ServingStatus whileDown;
        try
        {
            notReady = await Eventually.StatusAsync(Probe.Management, "/readyz", HttpStatusCode.ServiceUnavailable);
            whileDown = (await Probe.Health.CheckAsync(new HealthCheckRequest(), cancellationToken: Cancel)).Status;
        }
        finally
        {
            await platform.Sidecar.StartAgainAsync();
        }

        using var body = JsonDocument.Parse(notReady);
        var sidecar = body.RootElement.GetProperty("checks").GetProperty("dapr-sidecar");
        Assert.Equal("Unhealthy", sidecar.GetProperty("status").GetString());
        // Anyone may ask /readyz: it says what is down, never why (no exception text, no addresses); the log says why.
        Assert.Equal("unreachable", sidecar.GetProperty("description").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
        Assert.Equal(ServingStatus.NotServing, whileDown);
        await Eventually.StatusAsync(Probe.Management, "/readyz", HttpStatusCode.OK);
        Assert.Equal(ServingStatus.Serving, (await Probe.Health.CheckAsync(new HealthCheckRequest(), cancellationToken: Cancel)).Status);
    }
}
