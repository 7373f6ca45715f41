using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>daprd's two health endpoints: outbound ready once the APIs serve, ready once the app port answers.</summary>
public sealed class HealthContractTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Healthz_is_not_ready_until_the_app_listens_while_outbound_is_ready_at_once()
    {
        using var resources = new ResourceFolder();
        await using var app = new CallbackApp(UniqueName.Create("late-app"));
        await using var sidecar = await SidecarProcess.StartAsync(new SidecarLaunch(app.AppId, resources.Directory) { AppPort = app.Port }, Cancel);
        using var dapr = sidecar.CreateClient();

        using (var outbound = await sidecar.Http.GetAsync("/v1.0/healthz/outbound", Cancel))
        using (var notReady = await sidecar.Http.GetAsync("/v1.0/healthz", Cancel))
        {
            Assert.Equal(HttpStatusCode.NoContent, outbound.StatusCode);
            Assert.Equal(HttpStatusCode.InternalServerError, notReady.StatusCode);
            var body = await notReady.Content.ReadFromJsonAsync<JsonObject>(Cancel);
            Assert.Equal("ERR_HEALTH_NOT_READY", body!["errorCode"]!.GetValue<string>());
        }
        Assert.True(await dapr.CheckOutboundHealthAsync(Cancel));
        Assert.False(await dapr.CheckHealthAsync(Cancel));
        await dapr.WaitForSidecarAsync(Cancel);

        await app.StartAsync();
        await sidecar.WaitReadyAsync(Cancel);

        using var ready = await sidecar.Http.GetAsync("/v1.0/healthz", Cancel);
        Assert.Equal(HttpStatusCode.NoContent, ready.StatusCode);
        Assert.True(await dapr.CheckHealthAsync(Cancel));
    }

    [Fact]
    public async Task Healthz_with_another_appid_fails_and_with_its_own_appid_succeeds()
    {
        using var resources = new ResourceFolder();
        await using var sidecar = await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("appid-health"), resources.Directory), Cancel);
        await sidecar.WaitReadyAsync(Cancel);

        using var own = await sidecar.Http.GetAsync($"/v1.0/healthz?appid={sidecar.AppId}", Cancel);
        using var other = await sidecar.Http.GetAsync("/v1.0/healthz?appid=other", Cancel);

        Assert.Equal(HttpStatusCode.NoContent, own.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, other.StatusCode);
        var body = await other.Content.ReadFromJsonAsync<JsonObject>(Cancel);
        Assert.Equal("ERR_HEALTH_APPID_NOT_MATCH", body!["errorCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_sidecar_without_an_app_port_is_ready_as_soon_as_it_serves()
    {
        using var resources = new ResourceFolder();
        await using var sidecar = await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("no-app"), resources.Directory), Cancel);

        await sidecar.WaitReadyAsync(Cancel);

        using var ready = await sidecar.Http.GetAsync("/v1.0/healthz", Cancel);
        Assert.Equal(HttpStatusCode.NoContent, ready.StatusCode);
    }
}
