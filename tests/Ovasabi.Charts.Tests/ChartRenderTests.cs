using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Ovasabi.Charts.Tests;

/// <summary>What must hold for every value set under both Helm majors.</summary>
public sealed partial class ChartRenderTests
{
    private static readonly HashSet<string> ExpectedKinds =
    [
        "Deployment", "Service", "ServiceAccount", "Job", "Pod", "Secret", "Role", "RoleBinding", "HorizontalPodAutoscaler",
        "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor", "Component", "Configuration", "Resiliency",
    ];

    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task Every_object_parses_strictly_and_every_Dapr_object_matches_its_CRD_schema(int helm, string? valueSet)
    {
        var chart = await Helm.Of(helm).RenderAsync(valueSet);

        Assert.All(chart.Objects, o => Assert.Contains(o.Kind, ExpectedKinds));
        Assert.All(chart.Objects.Where(o => !o.IsDapr && o.Kind != "ServiceMonitor"), o => Assert.NotNull(o.Model));
        Assert.All(chart.Objects.Where(o => o.IsDapr), o => Assert.True(DaprCrdSchemas.Validate(o.Json) is [], $"{o}: {string.Join("; ", DaprCrdSchemas.Validate(o.Json))}"));
        var duplicates = chart.Objects.GroupBy(o => (o.Kind, o.Name)).Where(g => g.Count() > 1).Select(g => g.Key);
        Assert.Empty(duplicates);
    }

    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task Every_app_has_its_Dapr_annotations_probes_resources_and_runs_non_root_on_a_read_only_root(int helm, string? valueSet)
    {
        var chart = await Helm.Of(helm).RenderAsync(valueSet);

        Assert.Equal(ValueSets.EnabledApps(valueSet), chart.Deployments.Select(d => d.Name()).Order(StringComparer.Ordinal));
        var configurations = chart.OfKind("Configuration").Select(c => c.Name).ToHashSet();
        foreach (var deployment in chart.Deployments)
        {
            var app = deployment.Name();
            var pod = deployment.Spec.Template;
            Assert.Equal(deployment.Spec.Selector.MatchLabels, pod.Metadata.Labels.Where(l => deployment.Spec.Selector.MatchLabels.ContainsKey(l.Key)).ToDictionary());
            var container = Assert.Single(pod.Spec.Containers);
            var grpc = Assert.Single(container.Ports, p => p.Name == "grpc");
            Assert.Single(container.Ports, p => p.Name == "management");

            var annotations = pod.Metadata.Annotations;
            Assert.Equal("true", annotations["dapr.io/enabled"]);
            Assert.Equal(app, annotations["dapr.io/app-id"]);
            Assert.Equal(grpc.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), annotations["dapr.io/app-port"]);
            Assert.Equal("grpc", annotations["dapr.io/app-protocol"]);
            Assert.Equal("true", annotations["dapr.io/enable-metrics"]);
            Assert.Contains(annotations["dapr.io/config"], configurations);
            foreach (var resource in new[] { "cpu-request", "memory-request", "cpu-limit", "memory-limit" })
            {
                Assert.False(string.IsNullOrEmpty(annotations[$"dapr.io/sidecar-{resource}"]), $"{app}: dapr.io/sidecar-{resource}");
            }

            foreach (var probe in new[] { container.StartupProbe, container.LivenessProbe, container.ReadinessProbe })
            {
                Assert.NotNull(probe);
                Assert.Equal("management", probe.HttpGet.Port.Value);
            }
            Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
            Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
            Assert.True(container.Resources.Requests.ContainsKey("cpu") && container.Resources.Requests.ContainsKey("memory"), $"{app}: requests");
            Assert.True(container.Resources.Limits.ContainsKey("memory"), $"{app}: memory limit");

            Assert.True(pod.Spec.SecurityContext.RunAsNonRoot);
            Assert.True(pod.Spec.SecurityContext.RunAsUser > 0);
            Assert.Equal("RuntimeDefault", pod.Spec.SecurityContext.SeccompProfile.Type);
            AssertLockedDown(container, app);
            Assert.Contains(container.VolumeMounts, m => m.MountPath == "/tmp");
            // Only the sidecar holds the app API token, so nothing else reaching the app port can pose as it.
            var token = container.Env.Single(e => e.Name == "APP_API_TOKEN").ValueFrom.SecretKeyRef;
            Assert.Equal((annotations["dapr.io/app-token-secret"], "token"), (token.Name, token.Key));
            Assert.Equal(app, pod.Spec.ServiceAccountName);
            Assert.Contains(chart.Models<V1ServiceAccount>(), a => a.Name() == app);
            Assert.Contains(chart.Models<V1Service>(), s => s.Name() == app && s.Spec.Ports.Any(p => p.Name == "management"));
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task No_password_connection_string_or_key_appears_in_plain_text(int helm, string? valueSet)
    {
        var chart = await Helm.Of(helm).RenderAsync(valueSet);

        var containers = chart.Deployments.SelectMany(d => d.Spec.Template.Spec.Containers)
            .Concat(chart.Models<V1Job>().SelectMany(j => j.Spec.Template.Spec.Containers));
        foreach (var env in containers.SelectMany(c => c.Env ?? []).Where(e => SecretName().IsMatch(e.Name)))
        {
            Assert.True(env.Value is null && env.ValueFrom?.SecretKeyRef is not null, $"environment variable {env.Name} is not taken from a Secret");
        }
        foreach (var component in chart.OfKind("Component"))
        {
            foreach (var item in component.Json["spec"]!["metadata"]!.AsArray().Select(i => i!.AsObject()).Where(i => SecretName().IsMatch((string)i["name"]!)))
            {
                Assert.True(!item.ContainsKey("value") && item["secretKeyRef"] is JsonObject, $"{component}: metadata {item["name"]} is not a secretKeyRef");
            }
        }
        // The only Secrets the chart writes hold what it generated itself, never a value given to it.
        Assert.All(chart.OfKind("Secret"), s => Assert.True(s.Name.EndsWith("-auth-signing-keys", StringComparison.Ordinal) || s.Name.Contains("-app-api-token-", StringComparison.Ordinal), s.Name));
        Assert.DoesNotMatch(PlainTextSecret(), string.Join("\n", chart.Objects.Where(o => o.Kind != "Secret").Select(o => o.Json.ToJsonString())));
    }

    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task Components_are_scoped_to_the_apps_that_use_them(int helm, string? valueSet)
    {
        var chart = await Helm.Of(helm).RenderAsync(valueSet);
        var apps = ValueSets.EnabledApps(valueSet);
        var all = valueSet == ValueSets.NetworkPolicy;

        Dictionary<string, string[]> expected = new()
        {
            ["statestore"] = apps,
            ["sessionstore"] = apps,
            ["pubsub"] = apps,
            ["secretstore"] = ["auth"],
            ["email"] = ["notification"],
        };
        if (all)
        {
            expected["blobstore"] = ["asset"];
            expected["analytics"] = ["campaign", "quotes", "referral"];
            expected["sms"] = ["notification"];
            expected["webhook"] = ["notification"];
        }
        var components = chart.OfKind("Component").ToDictionary(c => c.Name, c => c.Json["scopes"]!.AsArray().Select(s => (string)s!).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), components.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, scopes) in expected)
        {
            Assert.Equal(scopes, components[name]);
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task Each_app_admits_through_Dapr_access_control_exactly_the_calls_the_access_table_grants(int helm, string? valueSet)
    {
        var chart = await Helm.Of(helm).RenderAsync(valueSet);
        var enabled = ValueSets.EnabledApps(valueSet);
        var external = ValueSets.ExternalCallers(valueSet);
        string[] callers = [.. ValueSets.AllApps, .. AccessTable.AppIds, "gateway", "stranger"];

        var wrong = new List<string>();
        foreach (var deployment in chart.Deployments)
        {
            var app = deployment.Name();
            var accessControl = chart.Single("Configuration", deployment.Spec.Template.Metadata.Annotations["dapr.io/config"]).Json["spec"]!["accessControl"]!;
            Assert.Equal("deny", (string?)accessControl["defaultAction"]);
            Assert.All(accessControl["policies"]!.AsArray(), p => Assert.Equal(("deny", "platform"), ((string?)p!["defaultAction"], (string?)p["namespace"])));
            foreach (var caller in callers.Distinct())
            {
                var allowed = AccessTable.Allowed(app, caller, enabled, external);
                wrong.AddRange(AccessTable.AllOperations.Where(op => AccessTable.Admits(accessControl, caller, op) != allowed.Contains(op))
                    .Select(op => $"{app} {(allowed.Contains(op) ? "denies" : "admits")} {caller} {op}"));
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task Sidecars_sample_traces_only_when_an_exporter_endpoint_is_set(int helm, string? valueSet)
    {
        var chart = await Helm.Of(helm).RenderAsync(valueSet);

        foreach (var configuration in chart.OfKind("Configuration"))
        {
            var tracing = configuration.Json["spec"]!["tracing"]!;
            var exported = tracing["otel"]?["endpointAddress"] is not null;
            Assert.Equal(valueSet == ValueSets.NetworkPolicy, exported);
            Assert.Equal(exported ? "1" : "0", (string?)tracing["samplingRate"]);
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task Resiliency_covers_calls_to_every_called_app_and_event_deliveries(int helm, string? valueSet)
    {
        var chart = await Helm.Of(helm).RenderAsync(valueSet);

        var resiliency = Assert.Single(chart.OfKind("Resiliency")).Json;
        var called = ValueSets.EnabledApps(valueSet).Where(app => ValueSets.CallersOf(app, valueSet).Length > 0);
        Assert.Equal(called, resiliency["spec"]!["targets"]!["apps"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("delivery", (string?)resiliency["spec"]!["targets"]!["components"]!["pubsub"]!["inbound"]!["retry"]);
        Assert.Equal(ValueSets.EnabledApps(valueSet), resiliency["scopes"]!.AsArray().Select(s => (string)s!));
    }

    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task Helm_test_checks_the_gRPC_health_of_every_app_and_migrations_run_before_the_pods(int helm, string? valueSet)
    {
        var chart = await Helm.Of(helm).RenderAsync(valueSet);
        var apps = ValueSets.EnabledApps(valueSet);

        var tests = chart.Models<V1Pod>().ToList();
        Assert.Equal(apps.Select(a => $"{a}-grpc-health-test"), tests.Select(t => t.Name()).Order(StringComparer.Ordinal));
        Assert.All(tests, t => Assert.Equal("test", t.Metadata.Annotations["helm.sh/hook"]));
        Assert.All(tests, t => AssertLockedDown(Assert.Single(t.Spec.Containers), t.Name()));

        var jobs = chart.Models<V1Job>().ToList();
        var startup = valueSet == ValueSets.PostgresqlState;
        Assert.Equal(startup ? [] : apps.Select(a => $"{a}-migrate"), jobs.Select(j => j.Name()).Order(StringComparer.Ordinal));
        foreach (var job in jobs)
        {
            Assert.Equal("pre-install,pre-upgrade", job.Metadata.Annotations["helm.sh/hook"]);
            var container = Assert.Single(job.Spec.Template.Spec.Containers);
            Assert.Equal(["migrate"], container.Args);
            Assert.Equal("false", job.Spec.Template.Metadata.Annotations["dapr.io/enabled"]);
            AssertLockedDown(container, job.Name());
        }
        Assert.All(chart.Deployments, d => Assert.Equal(startup ? "true" : "false",
            d.Spec.Template.Spec.Containers[0].Env.Single(e => e.Name == "Service__MigrateOnStartup").Value));
    }

    private static void AssertLockedDown(V1Container container, string owner)
    {
        var security = container.SecurityContext;
        Assert.True(security.RunAsNonRoot, $"{owner}: runAsNonRoot");
        Assert.True(security.ReadOnlyRootFilesystem, $"{owner}: readOnlyRootFilesystem");
        Assert.False(security.AllowPrivilegeEscalation, $"{owner}: allowPrivilegeEscalation");
        Assert.Equal(["ALL"], security.Capabilities.Drop);
    }

    // Names of settings that hold secrets (not names of Secrets: Auth__SigningKeys__Secret names one).
    [GeneratedRegex("(?i)(password|token|connectionstring|accesskey|secretkey|privatekey)")]
    private static partial Regex SecretName();

    [GeneratedRegex("(?i)(password=|pwd=|BEGIN [A-Z ]*PRIVATE KEY)")]
    private static partial Regex PlainTextSecret();
}
