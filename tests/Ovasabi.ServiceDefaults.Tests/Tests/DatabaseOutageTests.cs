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

/// <summary>With its PostgreSQL server stopped the probe says so: not ready, NOT_SERVING, and Unavailable (not Internal) calls.</summary>
public sealed class DatabaseOutageTests(DatabaseOutagePlatform platform) : IClassFixture<DatabaseOutagePlatform>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private ProbeHost Probe => platform.Probe;

    [Fact]
    public async Task Readyz_is_503_naming_postgresql_and_gRPC_health_NOT_SERVING_until_PostgreSQL_is_back()
    {
        await Probe.WaitReadyAsync();

        await platform.OwnPostgres.StopAsync(Cancel);
        string notReady;
        ServingStatus whileDown;
        try
        {
            notReady = await Eventually.StatusAsync(Probe.Management, "/readyz", HttpStatusCode.ServiceUnavailable);
            whileDown = (await Probe.Health.CheckAsync(new HealthCheckRequest(), cancellationToken: Cancel)).Status;
            using var live = await Probe.Management.GetAsync("/healthz", Cancel);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            await platform.OwnPostgres.StartAsync(Cancel);
        }

        using var body = JsonDocument.Parse(notReady);
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("dapr-sidecar").GetProperty("status").GetString());
        Assert.Equal(ServingStatus.NotServing, whileDown);
        await Eventually.StatusAsync(Probe.Management, "/readyz", HttpStatusCode.OK);
        Assert.Equal(ServingStatus.Serving, (await Probe.Health.CheckAsync(new HealthCheckRequest(), cancellationToken: Cancel)).Status);
    }

    [Fact]
    public async Task A_write_while_PostgreSQL_is_down_is_Unavailable_not_Internal_and_works_again_after_the_restart()
    {
        await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("before") }, cancellationToken: Cancel);

        await platform.OwnPostgres.StopAsync(Cancel);
        RpcException error;
        try
        {
            error = await Assert.ThrowsAsync<RpcException>(async () =>
                await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("during") }, cancellationToken: Cancel));
        }
        finally
        {
            await platform.OwnPostgres.StartAsync(Cancel);
        }

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("DEPENDENCY_UNAVAILABLE", error.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason);
        Assert.DoesNotContain("127.0.0.1", error.Status.Detail, StringComparison.Ordinal);
        await Eventually.Until(async () =>
        {
            try
            {
                await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("after") }, cancellationToken: Cancel);
                return true;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }
        }, "a write to succeed after PostgreSQL is back");
    }

    [Fact]
    public async Task A_read_that_misses_the_cache_while_PostgreSQL_is_down_is_Unavailable()
    {
        await platform.OwnPostgres.StopAsync(Cancel);
        RpcException error;
        try
        {
            error = await Assert.ThrowsAsync<RpcException>(async () =>
                await Probe.Probe.GetItemAsync(new GetItemRequest { ItemId = Guid.NewGuid().ToString(), TtlSeconds = 60 }, cancellationToken: Cancel));
        }
        finally
        {
            await platform.OwnPostgres.StartAsync(Cancel);
        }

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }
}
