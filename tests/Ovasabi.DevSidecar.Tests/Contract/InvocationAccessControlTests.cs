using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing.Protos;
using Ovasabi.Testing;
using static Ovasabi.DevSidecar.Tests.Infrastructure.Markers;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// A caller sidecar and two callees whose Configuration has an accessControl section: an HTTP app whose configuration
/// denies by default explicitly, and a gRPC app whose configuration leaves the global defaultAction out (daprd then
/// denies because policies exist). Both allow the caller <c>/allowed/**</c> (any verb), <c>/readonly/*</c> (GET only)
/// and the gRPC method Echo/Count.
/// </summary>
public sealed class AccessControlSidecars : SidecarFixture
{
    public string CallerId { get; } = UniqueName.Create("acl-caller");

    public SidecarProcess Caller { get; private set; } = null!;

    public HttpTestApp HttpApp { get; private set; } = null!;

    public SidecarProcess HttpSidecar { get; private set; } = null!;

    public CallbackApp GrpcApp { get; private set; } = null!;

    public SidecarProcess GrpcSidecar { get; private set; } = null!;

    public static string Configuration(string allowedCaller, bool explicitDefaultDeny) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Configuration
        metadata:
          name: invocation-acl
        spec:
          accessControl:
            {(explicitDefaultDeny ? "defaultAction: deny" : "")}
            trustDomain: public
            policies:
            - appId: {allowedCaller}
              defaultAction: deny
              trustDomain: public
              namespace: default
              operations:
              - name: /allowed/**
                httpVerb: ['*']
                action: allow
              - name: /readonly/*
                httpVerb: ['GET']
                action: allow
              - name: /ovasabi.testing.v1.Echo/Count
                httpVerb: ['*']
                action: allow
        """;

    protected override async Task StartAsync()
    {
        HttpApp = Own(await HttpTestApp.StartAsync(UniqueName.Create("acl-http")));
        GrpcApp = Own(await CallbackApp.StartAsync(UniqueName.Create("acl-grpc")));
        var configs = NewFolder()
            .Add("explicit-deny.yaml", Configuration(CallerId, explicitDefaultDeny: true))
            .Add("implicit-deny.yaml", Configuration(CallerId, explicitDefaultDeny: false));
        var sidecars = Own(await SidecarProcess.StartReadyAsync(
            new SidecarLaunch(CallerId, Resources.Directory),
            new SidecarLaunch(HttpApp.AppId, Resources.Directory) { AppPort = HttpApp.Port, AppProtocol = "http", ConfigFile = configs.PathOf("explicit-deny.yaml") },
            new SidecarLaunch(GrpcApp.AppId, Resources.Directory) { AppPort = GrpcApp.Port, AppProtocol = "grpc", ConfigFile = configs.PathOf("implicit-deny.yaml") }));
        (Caller, HttpSidecar, GrpcSidecar) = (sidecars[0], sidecars[1], sidecars[2]);
    }
}

/// <summary>Access control on the callee side, driven through the caller's HTTP API and its gRPC proxy.</summary>
public sealed class InvocationAccessControlTests(AccessControlSidecars fixture) : IClassFixture<AccessControlSidecars>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static async Task AssertDeniedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("ERR_DIRECT_INVOKE", (string?)(await response.Content.ReadFromJsonAsync<JsonObject>(Cancel))!["errorCode"]);
    }

    [Fact]
    public async Task An_http_app_denies_an_operation_outside_the_callers_policy_with_403_and_the_app_never_sees_it()
    {
        var id = Unique("denied");

        using var response = await fixture.Caller.InvokeAsync("GET", fixture.HttpApp.AppId, $"denied/{id}", Cancel);

        await AssertDeniedAsync(response);
        Assert.DoesNotContain(fixture.HttpApp.All, r => r.Path.Contains(id, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("GET", "allowed/{id}")]
    [InlineData("POST", "allowed/{id}/deeper/still")]
    [InlineData("GET", "ALLOWED/{id}")]
    [InlineData("GET", "readonly/{id}")]
    public async Task An_http_app_allows_the_callers_operations_with_verbs_and_case_insensitive_names_as_daprd_matches_them(string verb, string template)
    {
        var id = Unique("ok");

        using var response = await fixture.Caller.InvokeAsync(verb, fixture.HttpApp.AppId, template.Replace("{id}", id, StringComparison.Ordinal), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(fixture.HttpApp.All, r => r.Path.Contains(id, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("DELETE")]
    public async Task An_http_app_denies_a_verb_its_operation_does_not_list(string verb)
    {
        using var response = await fixture.Caller.InvokeAsync(verb, fixture.HttpApp.AppId, $"readonly/{Unique("verb")}", Cancel);

        await AssertDeniedAsync(response);
    }

    [Theory]
    [InlineData("GET", "allowed/{id}", true)]
    [InlineData("POST", "readonly/{id}", true)]
    [InlineData("DELETE", "readonly/{id}", true)]
    [InlineData("GET", "ALLOWED/{id}", false)]
    [InlineData("GET", "denied/{id}", false)]
    public async Task A_grpc_app_ignores_http_verbs_and_matches_names_case_sensitively_as_daprd_does(string verb, string template, bool allowed)
    {
        var id = Unique("grpc");

        using var response = await fixture.Caller.InvokeAsync(verb, fixture.GrpcApp.AppId, template.Replace("{id}", id, StringComparison.Ordinal), Cancel);

        if (allowed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Single(fixture.GrpcApp.All, r => r.Kind == "invoke" && r.Path.Contains(id, StringComparison.Ordinal));
        }
        else
        {
            await AssertDeniedAsync(response);
        }
    }

    [Fact]
    public async Task A_proxied_grpc_call_outside_the_policy_fails_with_PermissionDenied_and_an_allowed_one_streams()
    {
        var echo = new Echo.EchoClient(GrpcChannel.ForAddress($"http://127.0.0.1:{fixture.Caller.GrpcPort}"));
        var headers = new Metadata { { "dapr-app-id", fixture.GrpcApp.AppId } };

        var error = await Assert.ThrowsAsync<RpcException>(async () => await echo.SayAsync(new SayRequest { Text = "x" }, headers, cancellationToken: Cancel));
        using var count = echo.Count(new CountRequest { UpTo = 3 }, headers, cancellationToken: Cancel);
        var values = await count.ResponseStream.ReadAllAsync(Cancel).Select(r => r.Value).ToListAsync(Cancel);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal([1, 2, 3], values);
    }

    [Fact]
    public async Task A_caller_without_a_policy_gets_the_global_default_whether_explicit_or_implied_by_the_policies()
    {
        // The HTTP app's sidecar calls the gRPC app (implicit deny) and the gRPC app's sidecar calls the HTTP app (explicit deny).
        using var toGrpcApp = await fixture.HttpSidecar.InvokeAsync("GET", fixture.GrpcApp.AppId, $"allowed/{Unique("other")}", Cancel);
        using var toHttpApp = await fixture.GrpcSidecar.InvokeAsync("GET", fixture.HttpApp.AppId, $"allowed/{Unique("other")}", Cancel);

        await AssertDeniedAsync(toGrpcApp);
        await AssertDeniedAsync(toHttpApp);
    }

    [Fact]
    public async Task A_policy_without_trustDomain_or_namespace_is_refused_at_start_up_as_daprd_refuses_it()
    {
        using var folder = new ResourceFolder();
        folder.Add("config.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: incomplete-acl
            spec:
              accessControl:
                defaultAction: deny
                policies:
                - appId: someone
                  operations:
                  - name: /x
                    action: allow
            """);
        var launch = new SidecarLaunch(UniqueName.Create("acl-refused"), folder.Directory);

        var (exitCode, output) = await SidecarProcess.RunToExitAsync(launch,
            ["--app-id", launch.AppId, "--dapr-http-port", "0", "--dapr-grpc-port", "0", "--metrics-port", "0", "--config", folder.PathOf("config.yaml")],
            TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        Assert.Contains("spec.accessControl.policies", output, StringComparison.Ordinal);
        Assert.Contains("someone", output, StringComparison.Ordinal);
    }
}
