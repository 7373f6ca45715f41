using System.Text.Json.Nodes;
using k8s.Models;

namespace Ovasabi.Charts.Tests;

/// <summary>
/// The local platform's dapr.yaml and components/ (what `make run` gives the dev sidecars, and `dapr run -f .` gives
/// daprd): valid Dapr objects, every app of the repository, and the same component names and scopes as the chart.
/// </summary>
public sealed class LocalPlatformTests
{
    private static readonly string Components = Path.Combine(Helm.Root, "components");

    public static TheoryData<string> ComponentFiles() =>
        new(Directory.GetFiles(Components, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    private static JsonObject DaprYaml => YamlJson.LoadAll(File.ReadAllText(Path.Combine(Helm.Root, "dapr.yaml"))).Single();

    private static IReadOnlyList<JsonObject> LocalObjects() =>
        Directory.GetFiles(Components, "*.yaml").SelectMany(file => YamlJson.LoadAll(File.ReadAllText(file))).ToList();

    [Theory]
    [MemberData(nameof(ComponentFiles))]
    public void Every_file_in_components_is_a_valid_Dapr_object(string file)
    {
        var objects = YamlJson.LoadAll(File.ReadAllText(Path.Combine(Components, file)));

        Assert.NotEmpty(objects);
        Assert.All(objects, o => Assert.True(DaprCrdSchemas.Validate(o) is [], $"{file}: {string.Join("; ", DaprCrdSchemas.Validate(o))}"));
    }

    [Fact]
    public void Dapr_yaml_runs_every_app_of_the_repository_over_gRPC_with_its_own_ports_and_valid_resources()
    {
        var dapr = DaprYaml;
        var apps = dapr["apps"]!.AsArray().Select(a => a!.AsObject()).Where(a => a["command"] is not null).ToList();
        // An app's folder is its app ID (lower case) holding <app ID>.csproj; Ovasabi.ServiceDefaults is the shared library.
        var appFolders = Directory.GetDirectories(Path.Combine(Helm.Root, "apps"))
            .Where(d => Path.GetFileName(d).All(char.IsAsciiLetterLower) && File.Exists(Path.Combine(d, Path.GetFileName(d) + ".csproj")))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(appFolders, apps.Select(a => (string)a["appID"]!).Order(StringComparer.Ordinal));
        Assert.Equal("grpc", (string?)dapr["common"]!["appProtocol"]);
        Assert.Equal("127.0.0.1", (string?)dapr["common"]!["env"]!["Service__ListenAddress"]);
        foreach (var app in apps)
        {
            var id = (string)app["appID"]!;
            Assert.Equal($"./apps/{id}", (string?)app["appDirPath"]);
            Assert.Contains($"{id}.dll", app["command"]!.AsArray().Select(c => (string)c!).Last(), StringComparison.Ordinal);
            Assert.True(app["appProtocol"] is null || (string?)app["appProtocol"] == "grpc", id);
        }
        var all = dapr["apps"]!.AsArray().Select(a => a!.AsObject()).ToList();
        var ports = all.SelectMany(a => new[] { a["appPort"], a["daprHTTPPort"], a["daprGRPCPort"], a["metricsPort"], a["env"]?["MANAGEMENT_PORT"] })
            .Where(p => p is not null).Select(p => p!.ToString()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
        // The clients' way in: a sidecar without an app.
        var gateway = Assert.Single(all, a => (string?)a["appID"] == "gateway");
        Assert.Null(gateway["command"]);

        Assert.All(dapr["common"]!["resourcesPaths"]!.AsArray(), p => Assert.True(Directory.Exists(Path.Combine(Helm.Root, (string)p!)), $"resources path {p}"));
        var configuration = LocalConfiguration(dapr);
        Assert.Equal("Configuration", (string?)configuration["kind"]);
        Assert.Empty(DaprCrdSchemas.Validate(configuration));
    }

    [Fact]
    public async Task The_chart_and_the_access_table_have_exactly_the_apps_the_local_platform_runs()
    {
        var chart = await Helm.V4.RenderAsync(null);
        var local = DaprYaml["apps"]!.AsArray().Where(a => a!["command"] is not null).Select(a => (string)a!["appID"]!).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(local, chart.Deployments.Select(d => d.Name()).Order(StringComparer.Ordinal));
        Assert.Equal(local, AccessTable.AppIds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_local_access_control_admits_exactly_what_the_access_table_grants_with_the_gateway_as_external_caller()
    {
        var accessControl = LocalConfiguration(DaprYaml)["spec"]!["accessControl"]!;
        var local = DaprYaml["apps"]!.AsArray().Where(a => a!["command"] is not null).Select(a => (string)a!["appID"]!).ToList();
        string[] callers = [.. local, .. AccessTable.AppIds, "gateway", "stranger"];

        var wrong = new List<string>();
        foreach (var app in local)
        {
            foreach (var caller in callers.Distinct())
            {
                var allowed = AccessTable.Allowed(app, caller, local, ["gateway"]);
                // One policy list serves every callee: an operation another app serves must never reach this one, so
                // only this app's operations and the shared infrastructure ones are compared.
                var relevant = AccessTable.AllOperations.Where(op => AccessTable.ServedBy(op) is null || AccessTable.ServedBy(op) == app);
                wrong.AddRange(relevant.Where(op => AccessTable.Admits(accessControl, caller, op) != allowed.Contains(op))
                    .Select(op => $"{app} {(allowed.Contains(op) ? "denies" : "admits")} {caller} {op}"));
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static JsonObject LocalConfiguration(JsonObject dapr) =>
        YamlJson.LoadAll(File.ReadAllText(Path.Combine(Helm.Root, (string)dapr["common"]!["configFilePath"]!))).Single();

    [Fact]
    public async Task Local_components_have_the_chart_components_names_types_and_scopes_so_an_app_never_changes_between_laptop_and_cluster()
    {
        // The fully featured value set renders every component the chart has.
        var chart = (await Helm.V4.RenderAsync(ValueSets.NetworkPolicy)).OfKind("Component").ToDictionary(c => c.Name, c => c.Json);
        var local = LocalObjects().Where(o => (string?)o["kind"] == "Component").ToDictionary(o => (string)o["metadata"]!["name"]!);

        Assert.Equal(chart.Keys.Order(StringComparer.Ordinal), local.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, component) in chart)
        {
            // The intended differences: the secret store (a local JSON file on a laptop, Kubernetes Secrets in a cluster)
            // and SMS (an HTTP sink on a laptop, Twilio by default in a cluster; the chart sets Notification__SmsProvider).
            // The webhook binding is bindings.http on both, to a local sink or the receiver the operator names.
            if (name is not ("secretstore" or "sms"))
            {
                Assert.Equal((string?)component["spec"]!["type"], (string?)local[name]["spec"]!["type"]);
            }
            if (local[name]["scopes"] is JsonArray scopes)
            {
                Assert.Equal(component["scopes"]!.AsArray().Select(s => (string)s!).Order(StringComparer.Ordinal), scopes.Select(s => (string)s!).Order(StringComparer.Ordinal));
            }
        }
    }
}
