using System.Net;
using System.Text.Json.Nodes;
using Dapr;
using Dapr.Client;
using Grpc.Core;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// A caller sidecar whose Resiliency resource gives a slow app a timeout, a failing app a circuit breaker, and a
/// PostgreSQL binding an outbound timeout; the two apps sit behind their own sidecar processes.
/// </summary>
public sealed class ResiliencySidecars(PostgresServer postgres) : SidecarFixture
{
    public HttpTestApp SlowApp { get; private set; } = null!;

    public HttpTestApp BrokenApp { get; private set; } = null!;

    public SidecarProcess Caller { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    protected override async Task StartAsync()
    {
        SlowApp = Own(await HttpTestApp.StartAsync(UniqueName.Create("slow")));
        BrokenApp = Own(await HttpTestApp.StartAsync(UniqueName.Create("broken")));
        var database = await postgres.CreateDatabaseAsync("resiliency");
        Resources
            .Component("sql", "bindings.postgresql", new Dictionary<string, string> { ["connectionString"] = database })
            .Add("resiliency.yaml", $"""
                apiVersion: dapr.io/v1alpha1
                kind: Resiliency
                metadata:
                  name: guards
                spec:
                  policies:
                    timeouts:
                      quick: 2s
                    circuitBreakers:
                      twoStrikes:
                        maxRequests: 1
                        timeout: 60s
                        trip: consecutiveFailures >= 2
                  targets:
                    apps:
                      {SlowApp.AppId}:
                        timeout: quick
                      {BrokenApp.AppId}:
                        circuitBreaker: twoStrikes
                    components:
                      sql:
                        outbound:
                          timeout: quick
                """);
        var calleeResources = NewFolder();
        var sidecars = Own(await SidecarProcess.StartReadyAsync(
            new SidecarLaunch(UniqueName.Create("guarded"), Resources.Directory),
            new SidecarLaunch(SlowApp.AppId, calleeResources.Directory) { AppPort = SlowApp.Port, AppProtocol = "http" },
            new SidecarLaunch(BrokenApp.AppId, calleeResources.Directory) { AppPort = BrokenApp.Port, AppProtocol = "http" }));
        Caller = sidecars[0];
        Client = ClientOf(Caller);
    }
}

/// <summary>Timeouts and circuit breakers of Resiliency resources, on app targets and on component outbound calls.</summary>
public sealed class ResiliencyContractTests(ResiliencySidecars fixture) : IClassFixture<ResiliencySidecars>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_call_slower_than_the_app_timeout_policy_fails_with_ERR_DIRECT_INVOKE_and_a_fast_one_succeeds()
    {
        // Far apart on both sides of the 2 s policy, so a busy machine cannot make the fast call time out.
        using var slow = await fixture.Caller.Http.GetAsync($"/v1.0/invoke/{fixture.SlowApp.AppId}/method/work?delayMs=8000", Cancel);
        using var fast = await fixture.Caller.Http.GetAsync($"/v1.0/invoke/{fixture.SlowApp.AppId}/method/work?delayMs=10", Cancel);

        Assert.Equal(HttpStatusCode.InternalServerError, slow.StatusCode);
        Assert.Equal("ERR_DIRECT_INVOKE", JsonNode.Parse(await slow.Content.ReadAsStringAsync(Cancel))!["errorCode"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, fast.StatusCode);
    }

    [Fact]
    public async Task After_two_failures_the_circuit_breaker_opens_and_further_calls_do_not_reach_the_app()
    {
        for (var i = 0; i < 2; i++)
        {
            using var failing = await fixture.Caller.Http.PostAsync($"/v1.0/invoke/{fixture.BrokenApp.AppId}/method/charge?status=503", null, Cancel);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
        }
        await fixture.BrokenApp.WaitForAsync(r => r.Path.StartsWith("/charge", StringComparison.Ordinal), count: 2);

        using var rejected = await fixture.Caller.Http.PostAsync($"/v1.0/invoke/{fixture.BrokenApp.AppId}/method/charge", null, Cancel);

        Assert.Equal(HttpStatusCode.InternalServerError, rejected.StatusCode);
        Assert.Contains("circuit breaker", await rejected.Content.ReadAsStringAsync(Cancel), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, (await fixture.BrokenApp.SettleAsync(r => r.Path.StartsWith("/charge", StringComparison.Ordinal), TimeSpan.FromMilliseconds(500))).Count);
    }

    [Fact]
    public async Task A_binding_call_slower_than_the_outbound_timeout_policy_fails_with_Internal()
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => fixture.Client.InvokeBindingAsync(
            new BindingRequest("sql", "query") { Metadata = { ["sql"] = "SELECT pg_sleep(8)" } }, Cancel));

        Assert.Equal(StatusCode.Internal, Assert.IsType<RpcException>(error.InnerException).StatusCode);
        var quick = await fixture.Client.InvokeBindingAsync(new BindingRequest("sql", "query") { Metadata = { ["sql"] = "SELECT 1" } }, Cancel);
        Assert.Equal("[[1]]", System.Text.Encoding.UTF8.GetString(quick.Data.Span));
    }
}
