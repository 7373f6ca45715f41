using Grpc.Core;
using Grpc.Health.V1;
using Ovasabi.Contracts;
using Ovasabi.Sample.V1;
using Ovasabi.Sample.V1.Events;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Sample.Tests;

/// <summary>The sample app with the user and auth apps it needs, on PostgreSQL and Redis servers of its own.</summary>
public sealed class SamplePlatform() : AppPlatform(new PostgresServer(), new RedisServer(), [UserAppId, AuthAppId, "sample"], ownsServers: true)
{
    public SampleService.SampleServiceClient Sample(string? accessToken = null) => new(InvokerVia(GatewaySidecar, "sample", accessToken));
}

/// <summary>The sample API through the gateway sidecar, as clients call it.</summary>
public sealed class SampleApiTests(SamplePlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_app_is_healthy_and_ready()
    {
        var health = new Health.HealthClient(platform.InvokerVia(platform.GatewaySidecar, "sample", null));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), cancellationToken: Cancel)).Status);
        using var ready = await platform.App("sample").Management.GetAsync("/readyz", Cancel);
        Assert.True(ready.IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_signed_in_user_creates_an_item_reads_it_back_and_it_is_announced()
    {
        var owner = await platform.SignUpAsync();

        var created = await platform.Sample(owner.AccessToken).CreateItemAsync(new CreateItemRequest { Name = " lamp " }, cancellationToken: Cancel);
        var read = await platform.Sample(owner.AccessToken).GetItemAsync(new GetItemRequest { ItemId = created.ItemId }, cancellationToken: Cancel);

        Assert.Equal(("lamp", owner.Id), (read.Name, read.OwnerUserId));
        await platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(SampleTopic.ItemCreated)
                                                    && r.Event.Data.ToStringUtf8().Contains(created.ItemId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Another_user_gets_NotFound_and_an_anonymous_caller_Unauthenticated()
    {
        var owner = await platform.SignUpAsync();
        var other = await platform.SignUpAsync();
        var created = await platform.Sample(owner.AccessToken).CreateItemAsync(new CreateItemRequest { Name = "private" }, cancellationToken: Cancel);

        var hidden = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Sample(other.AccessToken).GetItemAsync(new GetItemRequest { ItemId = created.ItemId }, cancellationToken: Cancel));
        var anonymous = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Sample().CreateItemAsync(new CreateItemRequest { Name = "x" }, cancellationToken: Cancel));

        Assert.Equal((StatusCode.NotFound, StatusCode.Unauthenticated), (hidden.StatusCode, anonymous.StatusCode));
    }

    [Fact]
    public async Task An_empty_name_is_InvalidArgument_naming_the_field()
    {
        var owner = await platform.SignUpAsync();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Sample(owner.AccessToken).CreateItemAsync(new CreateItemRequest { Name = "  " }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("name", error.Status.Detail, StringComparison.Ordinal);
    }
}
