using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>daprd's command line as `dapr run` and people write it: Go-style flags, repeated and aliased resources paths, --config.</summary>
public sealed class CommandLineContractTests(RedisServer redis)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Go_style_single_dash_flags_with_and_without_equals_are_accepted()
    {
        using var resources = new ResourceFolder().RedisState("store", redis);
        var launch = new SidecarLaunch(UniqueName.Create("godash"), resources.Directory);
        var ports = SidecarPorts.Free();

        await using var sidecar = await SidecarProcess.StartWithArgumentsAsync(launch, ports,
        [
            "-app-id", launch.AppId,
            $"-dapr-http-port={SidecarProcess.Text(ports.Http)}",
            "-dapr-grpc-port", SidecarProcess.Text(ports.Grpc),
            "-dapr-internal-grpc-port", SidecarProcess.Text(ports.Internal),
            "-metrics-port", SidecarProcess.Text(ports.Metrics),
            "-resources-path", resources.Directory,
            "-log-level", "info",
            "-placement-host-address", "",
        ], Cancel);

        var metadata = await MetadataAsync(sidecar);
        Assert.Equal(launch.AppId, metadata["id"]!.GetValue<string>());
        Assert.Equal(["store"], ComponentNames(metadata));
    }

    [Fact]
    public async Task A_repeated_resources_path_loads_the_components_of_every_folder()
    {
        using var first = new ResourceFolder().RedisState("first-store", redis);
        using var second = new ResourceFolder().RedisPubSub("second-pubsub", redis);

        await using var sidecar = await StartAsync(first, "--resources-path", first.Directory, "--resources-path", second.Directory);

        Assert.Equal(["first-store", "second-pubsub"], ComponentNames(await MetadataAsync(sidecar)));
    }

    [Fact]
    public async Task The_components_path_alias_loads_components()
    {
        using var resources = new ResourceFolder().RedisState("aliased-store", redis);

        await using var sidecar = await StartAsync(resources, "--components-path", resources.Directory);

        Assert.Equal(["aliased-store"], ComponentNames(await MetadataAsync(sidecar)));
    }

    [Fact]
    public async Task A_Configuration_given_with_config_is_applied()
    {
        using var resources = new ResourceFolder().Add("config.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: deny-all
            spec:
              accessControl:
                defaultAction: deny
                trustDomain: public
            """);
        using var unconfigured = new ResourceFolder();
        await using var denying = await StartAsync(resources, "--resources-path", resources.Directory, "--config", resources.PathOf("config.yaml"));
        await using var open = await StartAsync(unconfigured, "--resources-path", unconfigured.Directory);

        using var denied = await denying.Http.PostAsync($"/v1.0/invoke/{denying.AppId}/method/orders", null, Cancel);
        using var allowed = await open.Http.PostAsync($"/v1.0/invoke/{open.AppId}/method/orders", null, Cancel);

        // With access control deny, the callee refuses before it looks for an app; without it, the missing app is the error.
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("access control policy has denied access", await denied.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.InternalServerError, allowed.StatusCode);
        Assert.DoesNotContain("access control", await allowed.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ignored_daprd_flags_are_accepted_with_a_note()
    {
        using var resources = new ResourceFolder();

        await using var sidecar = await StartAsync(resources, "--resources-path", resources.Directory,
            "--placement-host-address", "localhost:50005", "--enable-api-logging", "--mode", "standalone");

        Assert.Contains("--placement-host-address is accepted for daprd compatibility and ignored", sidecar.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await sidecar.Http.GetAsync("/v1.0/healthz/outbound", Cancel)).StatusCode);
    }

    private static async Task<SidecarProcess> StartAsync(ResourceFolder workingDirectory, params string[] flags)
    {
        var launch = new SidecarLaunch(UniqueName.Create("cli"), workingDirectory.Directory);
        var ports = SidecarPorts.Free();
        return await SidecarProcess.StartWithArgumentsAsync(launch, ports,
        [
            "--app-id", launch.AppId,
            .. ports.Arguments(),
            .. flags,
        ], Cancel);
    }

    private static async Task<JsonObject> MetadataAsync(SidecarProcess sidecar) =>
        (await sidecar.Http.GetFromJsonAsync<JsonObject>("/v1.0/metadata", Cancel))!;

    private static List<string> ComponentNames(JsonObject metadata) =>
        metadata["components"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();
}
