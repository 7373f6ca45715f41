using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>Runs a sidecar that is expected to refuse to start, and returns what it printed.</summary>
internal static class Refusal
{
    public static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Starts a sidecar for <paramref name="resources"/> plus <paramref name="extra"/> flags; asserts it exits non-zero.</summary>
    public static async Task<string> RunAsync(ResourceFolder resources, params string[] extra)
    {
        var launch = new SidecarLaunch(UniqueName.Create("refused"), resources.Directory);
        string[] arguments =
        [
            "--app-id", launch.AppId,
            "--dapr-http-port", "0",
            "--dapr-grpc-port", "0",
            "--metrics-port", "0",
            "--resources-path", resources.Directory,
            .. extra,
        ];
        return await RunArgumentsAsync(launch, arguments);
    }

    public static async Task<string> RunArgumentsAsync(SidecarLaunch launch, IEnumerable<string> arguments)
    {
        var (exitCode, output) = await SidecarProcess.RunToExitAsync(launch, arguments, ExitTimeout);
        Assert.True(exitCode != 0, $"the sidecar exited with 0 instead of refusing to start. Output:\n{output}");
        return output;
    }

    /// <summary>The line that states the refusal (the sidecar's single "fatal:" line).</summary>
    public static string FatalLine(string output) =>
        output.Split('\n').FirstOrDefault(l => l.StartsWith("fatal: ", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no 'fatal:' line in the output:\n{output}");

    public const string ComponentHeader = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: store
        """;
}

/// <summary>Resource files the sidecar must refuse at start-up, with a message that names the file and the field.</summary>
public sealed class ResourceRefusalTests(RedisServer redis)
{
    [Fact]
    public async Task Bad_indentation_is_refused_naming_the_file_and_the_line()
    {
        using var resources = new ResourceFolder().Add("store.yaml", Refusal.ComponentHeader + """

            spec:
              type: state.redis
               version: v1
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("line 7", fatal, StringComparison.Ordinal);
        Assert.Contains("malformed YAML", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tab_used_for_indentation_is_refused_naming_the_line_with_the_tab()
    {
        using var resources = new ResourceFolder().Add("store.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n\tname: store\nspec:\n  type: state.redis\n");

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("line 4:", fatal, StringComparison.Ordinal);
        Assert.Contains("tab", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unclosed_quote_is_refused_naming_the_file_and_the_line()
    {
        using var resources = new ResourceFolder().Add("store.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: "store
            spec:
              type: state.redis
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("line 4:", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_second_document_names_its_line_in_the_file()
    {
        using var resources = new ResourceFolder().Add("store.yaml", Refusal.ComponentHeader + $"""

            spec:
              type: state.redis
              version: v1
              metadata:
              - name: redisHost
                value: {redis.Endpoint}
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: other
            spec:
              type: state.redis
                version: v1
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("line 18", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_component_type_is_refused_naming_spec_type()
    {
        using var resources = new ResourceFolder().Component("store", "state.mongodb", new Dictionary<string, string> { ["host"] = "localhost:27017" });

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("spec.type", fatal, StringComparison.Ordinal);
        Assert.Contains("state.mongodb", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_required_metadata_is_refused_naming_the_field()
    {
        using var resources = new ResourceFolder().Component("store", "state.redis", new Dictionary<string, string> { ["redisPassword"] = "x" });

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("redisHost", fatal, StringComparison.Ordinal);
        Assert.Contains("'store'", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsupported_component_version_is_refused_naming_spec_version()
    {
        using var resources = new ResourceFolder().Add("store.yaml", Refusal.ComponentHeader + $"""

            spec:
              type: state.redis
              version: v7
              metadata:
              - name: redisHost
                value: {redis.Endpoint}
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("spec.version", fatal, StringComparison.Ordinal);
        Assert.Contains("v7", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_components_with_the_same_name_are_refused_naming_both_files()
    {
        using var resources = new ResourceFolder()
            .Add("a.yaml", Refusal.ComponentHeader + $"\nspec:\n  type: state.redis\n  metadata:\n  - name: redisHost\n    value: {redis.Endpoint}\n")
            .Add("b.yaml", Refusal.ComponentHeader + $"\nspec:\n  type: pubsub.redis\n  metadata:\n  - name: redisHost\n    value: {redis.Endpoint}\n");

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("a.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains(resources.PathOf("b.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("metadata.name", fatal, StringComparison.Ordinal);
        Assert.Contains("duplicate", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secretKeyRef_without_auth_secretStore_is_refused_naming_both()
    {
        using var resources = new ResourceFolder().Add("store.yaml", Refusal.ComponentHeader + """

            spec:
              type: state.redis
              metadata:
              - name: redisHost
                secretKeyRef:
                  name: redis
                  key: host
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("'redisHost'.secretKeyRef", fatal, StringComparison.Ordinal);
        Assert.Contains("auth.secretStore", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_envRef_to_DAPR_API_TOKEN_is_refused_naming_the_field()
    {
        using var resources = new ResourceFolder().Add("store.yaml", Refusal.ComponentHeader + $"""

            spec:
              type: state.redis
              metadata:
              - name: redisHost
                value: {redis.Endpoint}
              - name: redisPassword
                envRef: DAPR_API_TOKEN
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("'redisPassword'.envRef", fatal, StringComparison.Ordinal);
        Assert.Contains("DAPR_API_TOKEN", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_resources_path_that_does_not_exist_is_refused_naming_it()
    {
        using var resources = new ResourceFolder();
        var missing = Path.Combine(resources.Directory, "no-such-folder");

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources, "--resources-path", missing));

        Assert.Contains(missing, fatal, StringComparison.Ordinal);
        Assert.Contains("does not exist", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Configuration_with_a_non_numeric_samplingRate_is_refused_naming_the_field()
    {
        using var resources = new ResourceFolder().Add("config.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: tracing
            spec:
              tracing:
                samplingRate: abc
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources, "--config", resources.PathOf("config.yaml")));

        Assert.Contains(resources.PathOf("config.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("spec.tracing.samplingRate", fatal, StringComparison.Ordinal);
        Assert.Contains("abc", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Subscription_with_a_routing_rule_outside_the_supported_CEL_subset_is_refused_naming_the_rule()
    {
        using var resources = new ResourceFolder().Add("subscription.yaml", """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: orders
            spec:
              pubsubname: pubsub
              topic: orders
              routes:
                rules:
                - match: size(event.data.items) > 2
                  path: /bulk
                default: /orders
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("subscription.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("spec.routes.rules[0].match", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_file_that_does_not_exist_is_refused_naming_it()
    {
        using var resources = new ResourceFolder();
        var missing = resources.PathOf("no-such-config.yaml");

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources, "--config", missing));

        Assert.Contains(missing, fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Resiliency_target_naming_an_undefined_policy_is_refused_naming_the_file_and_the_target()
    {
        using var resources = new ResourceFolder()
            .RedisPubSub("pubsub", redis)
            .Add("resiliency.yaml", """
                apiVersion: dapr.io/v1alpha1
                kind: Resiliency
                metadata:
                  name: policies
                spec:
                  policies:
                    retries:
                      threeTimes:
                        policy: constant
                        duration: 1s
                        maxRetries: 3
                  targets:
                    components:
                      pubsub:
                        outbound:
                          retry: fiveTimes
                """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("resiliency.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("spec.targets.components.pubsub.outbound.retry", fatal, StringComparison.Ordinal);
        Assert.Contains("fiveTimes", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_component_whose_backend_is_unreachable_is_refused_naming_the_component()
    {
        var closedPort = FreePort.Next();
        using var resources = new ResourceFolder().Component("store", "state.redis", new Dictionary<string, string> { ["redisHost"] = $"127.0.0.1:{closedPort}" });

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("component 'store' (state.redis) failed to initialise", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_component_whose_backend_never_answers_is_refused_after_its_initTimeout_naming_the_field()
    {
        // Accepts the TCP connection and never says a word, so the redis handshake can only time out.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        using var resources = new ResourceFolder().Add("store.yaml", Refusal.ComponentHeader + $"""

            spec:
              type: state.redis
              version: v1
              initTimeout: 1s
              metadata:
              - name: redisHost
                value: 127.0.0.1:{port}
            """);

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources));

        Assert.Contains(resources.PathOf("store.yaml"), fatal, StringComparison.Ordinal);
        Assert.Contains("component 'store' (state.redis) failed to initialise: init timed out after 1s (spec.initTimeout)", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_component_whose_backend_is_unreachable_is_skipped_when_it_sets_ignoreErrors()
    {
        var closedPort = FreePort.Next();
        using var resources = new ResourceFolder()
            .RedisState("good", redis)
            .Add("broken.yaml", $"""
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: broken
                spec:
                  type: state.redis
                  version: v1
                  ignoreErrors: true
                  metadata:
                  - name: redisHost
                    value: 127.0.0.1:{closedPort}
                """);
        await using var sidecar = await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("ignore-errors"), resources.Directory), TestContext.Current.CancellationToken);
        using var dapr = sidecar.CreateClient();

        var metadata = await dapr.GetMetadataAsync(TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<global::Dapr.DaprException>(() => dapr.GetStateAsync<int>("broken", "k", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(["good"], metadata.Components.Select(c => c.Name));
        Assert.Equal(global::Grpc.Core.StatusCode.InvalidArgument, Assert.IsType<global::Grpc.Core.RpcException>(error.InnerException).StatusCode);
        Assert.Contains("failed to initialise and is ignored", sidecar.Output, StringComparison.Ordinal);
    }
}

/// <summary>Command-line flags the sidecar must refuse at start-up, naming the flag.</summary>
public sealed class FlagRefusalTests
{
    [Fact]
    public async Task An_unknown_flag_is_refused_naming_it()
    {
        using var resources = new ResourceFolder();

        var output = await Refusal.RunAsync(resources, "--no-such-flag", "1");

        Assert.Contains("--no-such-flag", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_go_style_single_dash_flag_is_refused_naming_it()
    {
        using var resources = new ResourceFolder();

        var output = await Refusal.RunAsync(resources, "-no-such-flag");

        Assert.Contains("no-such-flag", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_non_numeric_app_port_is_refused_naming_the_flag_and_the_value()
    {
        using var resources = new ResourceFolder();

        var output = await Refusal.RunAsync(resources, "--app-port", "abc");

        Assert.Contains("--app-port", output, StringComparison.Ordinal);
        Assert.Contains("'abc'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task App_protocol_grpcs_is_refused_naming_the_flag()
    {
        using var resources = new ResourceFolder();

        var fatal = Refusal.FatalLine(await Refusal.RunAsync(resources, "--app-protocol", "grpcs"));

        Assert.Contains("--app-protocol grpcs", fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_app_id_is_refused_naming_the_flag()
    {
        using var resources = new ResourceFolder();
        var launch = new SidecarLaunch("no-app-id", resources.Directory);

        var output = await Refusal.RunArgumentsAsync(launch, ["--dapr-http-port", "0", "--dapr-grpc-port", "0", "--metrics-port", "0"]);

        Assert.Contains("--app-id", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_log_level_is_refused_naming_the_flag()
    {
        using var resources = new ResourceFolder();

        var output = await Refusal.RunAsync(resources, "--log-level", "loud");

        Assert.Contains("invalid flag: --log-level loud", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_max_body_size_is_refused_naming_the_flag()
    {
        using var resources = new ResourceFolder();

        var output = await Refusal.RunAsync(resources, "--max-body-size", "lots");

        Assert.Contains("invalid flag: --max-body-size lots", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_busy_port_is_refused_naming_the_ports()
    {
        using var resources = new ResourceFolder();
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        var port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;

        var launch = new SidecarLaunch(UniqueName.Create("busy"), resources.Directory);

        var fatal = Refusal.FatalLine(await Refusal.RunArgumentsAsync(launch,
            ["--app-id", launch.AppId, "--dapr-http-port", SidecarProcess.Text(port), "--dapr-grpc-port", "0", "--metrics-port", "0"]));

        Assert.Contains("cannot listen", fatal, StringComparison.Ordinal);
        Assert.Contains($"http {port}", fatal, StringComparison.Ordinal);
    }
}

/// <summary>Makes sure a refused start-up really is the refusal: the same folder, fixed, starts.</summary>
public sealed class RefusalBaselineTests(RedisServer redis)
{
    [Fact]
    public async Task A_valid_folder_starts_and_lists_its_component()
    {
        using var resources = new ResourceFolder().RedisState("store", redis);
        await using var sidecar = await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("baseline"), resources.Directory), TestContext.Current.CancellationToken);

        var metadata = await sidecar.Http.GetFromJsonAsync<JsonObject>("/v1.0/metadata", TestContext.Current.CancellationToken);

        Assert.Equal("store", metadata!["components"]![0]!["name"]!.GetValue<string>());
    }
}
