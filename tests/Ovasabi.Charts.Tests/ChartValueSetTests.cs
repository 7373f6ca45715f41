using System.Text.Json.Nodes;
using k8s.Models;

namespace Ovasabi.Charts.Tests;

/// <summary>What each value set switches on, under both Helm majors.</summary>
public sealed class ChartValueSetTests
{
    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Defaults_render_the_built_apps_on_Redis_with_migration_jobs_and_nothing_optional(int helm)
    {
        var chart = await Helm.Of(helm).RenderAsync(null);

        Assert.Equal("state.redis", Type(chart, "statestore"));
        Assert.Equal("state.redis", Type(chart, "sessionstore"));
        Assert.Equal("pubsub.redis", Type(chart, "pubsub"));
        // Redis takes a password by default, from a Secret (the Bitnami chart's), never from values.
        Assert.All(new[] { "statestore", "sessionstore", "pubsub" }, component =>
            Assert.Equal(("redis", "redis-password"), ((string?)Metadata(chart, component, "redisPassword")["secretKeyRef"]!["name"], (string?)Metadata(chart, component, "redisPassword")["secretKeyRef"]!["key"])));
        // Email goes to the relay named in values, with its credentials from a Secret, never from values.
        Assert.Equal("bindings.smtp", Type(chart, "email"));
        Assert.Equal(("smtp", "587", "Ovasabi <no-reply@example.com>"),
            ((string?)Metadata(chart, "email", "host")["value"], (string?)Metadata(chart, "email", "port")["value"], (string?)Metadata(chart, "email", "emailFrom")["value"]));
        Assert.Equal(("ovasabi-smtp", "user", "ovasabi-smtp", "password"),
            ((string?)Metadata(chart, "email", "user")["secretKeyRef"]!["name"], (string?)Metadata(chart, "email", "user")["secretKeyRef"]!["key"],
             (string?)Metadata(chart, "email", "password")["secretKeyRef"]!["name"], (string?)Metadata(chart, "email", "password")["secretKeyRef"]!["key"]));
        // SMS needs a provider account: no component and no SMS channel until an app lists sms in its uses.
        Assert.DoesNotContain(chart.OfKind("Component"), c => c.Name == "sms");
        Assert.DoesNotContain(chart.Deployments.Single(d => d.Name() == "notification").Spec.Template.Spec.Containers[0].Env, e => e.Name == "Notification__SmsBinding");
        // No webhooks and no MailKit relay until asked for: every email through bindings.smtp.
        Assert.DoesNotContain(chart.Deployments.Single(d => d.Name() == "notification").Spec.Template.Spec.Containers[0].Env,
            e => e.Name.StartsWith("Notification__WebhookBindings", StringComparison.Ordinal) || e.Name.StartsWith("Notification__SmtpRelays", StringComparison.Ordinal)
                 || e.Name.StartsWith("Notification__EmailRoutes", StringComparison.Ordinal) || e.Name.StartsWith("Notification__BindingRates", StringComparison.Ordinal));
        Assert.Empty(chart.OfKind("HorizontalPodAutoscaler"));
        Assert.Empty(chart.OfKind("PodDisruptionBudget"));
        Assert.Empty(chart.OfKind("NetworkPolicy"));
        Assert.Empty(chart.OfKind("ServiceMonitor"));
        Assert.All(chart.Deployments, d => Assert.Equal(1, d.Spec.Replicas));
        // No bootstrap administrator unless asked for.
        Assert.DoesNotContain(chart.Deployments.Single(d => d.Name() == "user").Spec.Template.Spec.Containers[0].Env, e => e.Name.StartsWith("User__BootstrapAdmin", StringComparison.Ordinal));
        // The generated signing key is kept on upgrade and uninstall, and only auth's account may read it.
        var keys = chart.Models<V1Secret>().Single(s => s.Name().EndsWith("-auth-signing-keys", StringComparison.Ordinal));
        Assert.Equal("keep", keys.Metadata.Annotations["helm.sh/resource-policy"]);
        Assert.Single(keys.Data);
        Assert.Equal(keys.Name(), Env(chart.Deployments.Single(d => d.Name() == "auth"), "Auth__SigningKeys__Secret").Value);
        var role = chart.Models<V1Role>().Single();
        Assert.Equal([keys.Name()], role.Rules.Single().ResourceNames);
        Assert.Equal(["get"], role.Rules.Single().Verbs);
        Assert.Equal(["auth"], chart.Models<V1RoleBinding>().Single().Subjects.Select(s => s.Name));
        Assert.All(chart.Deployments, d => Assert.Equal(d.Name() == "auth", d.Spec.Template.Spec.AutomountServiceAccountToken));
        // One app API token per app: generated once, random, kept on upgrade; the app's sidecar presents it and only that app requires it.
        var tokens = chart.Models<V1Secret>().Where(s => s.Name().Contains("-app-api-token-", StringComparison.Ordinal)).ToDictionary(s => s.Name());
        Assert.Equal(ValueSets.BuiltApps.Select(app => $"ovasabi-app-api-token-{app}"), tokens.Keys.Order(StringComparer.Ordinal));
        Assert.All(tokens.Values, token => Assert.Equal("keep", token.Metadata.Annotations["helm.sh/resource-policy"]));
        Assert.All(tokens.Values, token => Assert.True(token.Data["token"].Length >= 32));
        Assert.Equal(tokens.Count, tokens.Values.Select(t => Convert.ToBase64String(t.Data["token"])).Distinct().Count());
        AssertEachAppHasItsOwnToken(chart, "ovasabi-app-api-token");
    }

    /// <summary>Each app's sidecar presents, and each app requires, the token of the Secret named after that app.</summary>
    private static void AssertEachAppHasItsOwnToken(RenderedChart chart, string prefix) =>
        Assert.All(chart.Deployments, d =>
        {
            var secret = $"{prefix}-{d.Name()}";
            Assert.Equal(secret, d.Spec.Template.Metadata.Annotations["dapr.io/app-token-secret"]);
            Assert.Equal((secret, "token"), (Env(d, "APP_API_TOKEN").ValueFrom.SecretKeyRef.Name, Env(d, "APP_API_TOKEN").ValueFrom.SecretKeyRef.Key));
        });

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task PostgreSQL_state_puts_the_state_and_session_stores_on_PostgreSQL_through_a_secret_and_migrates_at_start(int helm)
    {
        var chart = await Helm.Of(helm).RenderAsync(ValueSets.PostgresqlState);

        foreach (var store in new[] { "statestore", "sessionstore" })
        {
            Assert.Equal("state.postgresql", Type(chart, store));
            var connection = Metadata(chart, store, "connectionString");
            Assert.Equal("ovasabi-state-postgresql", (string?)connection["secretKeyRef"]!["name"]);
        }
        Assert.NotEqual((string?)Metadata(chart, "statestore", "tableName")["value"], (string?)Metadata(chart, "sessionstore", "tableName")["value"]);
        Assert.Equal("pubsub.redis", Type(chart, "pubsub"));
        Assert.Equal("redis-auth", (string?)Metadata(chart, "pubsub", "redisPassword")["secretKeyRef"]!["name"]);
        Assert.Equal("true", (string?)Metadata(chart, "pubsub", "enableTLS")["value"]);
        Assert.Empty(chart.OfKind("Job"));
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task High_availability_adds_an_autoscaler_and_a_disruption_budget_per_app_and_leaves_replicas_to_the_autoscaler(int helm)
    {
        var chart = await Helm.Of(helm).RenderAsync(ValueSets.HighAvailability);

        var autoscalers = chart.Models<V2HorizontalPodAutoscaler>().ToDictionary(h => h.Name());
        var budgets = chart.Models<V1PodDisruptionBudget>().ToDictionary(b => b.Name());
        foreach (var deployment in chart.Deployments)
        {
            var app = deployment.Name();
            Assert.Null(deployment.Spec.Replicas);
            Assert.Equal(("Deployment", app), (autoscalers[app].Spec.ScaleTargetRef.Kind, autoscalers[app].Spec.ScaleTargetRef.Name));
            Assert.Equal((3, 10), (autoscalers[app].Spec.MinReplicas, autoscalers[app].Spec.MaxReplicas));
            Assert.Equal(deployment.Spec.Selector.MatchLabels, budgets[app].Spec.Selector.MatchLabels);
            Assert.NotEmpty(deployment.Spec.Template.Spec.TopologySpreadConstraints);
        }
        // finance overrides the budget: at most one pod down rather than at least two up.
        Assert.Equal(("1", null), (budgets["finance"].Spec.MaxUnavailable?.Value, budgets["finance"].Spec.MinAvailable?.Value));
        Assert.Equal((null, "2"), (budgets["user"].Spec.MaxUnavailable?.Value, budgets["user"].Spec.MinAvailable?.Value));
        Assert.Equal("768Mi", chart.Deployments.Single(d => d.Name() == "finance").Spec.Template.Spec.Containers[0].Resources.Limits["memory"].ToString());
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Network_policies_admit_to_each_sidecar_only_its_callers_monitoring_and_helm_test(int helm)
    {
        var chart = await Helm.Of(helm).RenderAsync(ValueSets.NetworkPolicy);

        var policies = chart.Models<V1NetworkPolicy>().ToDictionary(p => p.Name());
        Assert.Equal(ValueSets.AllApps, policies.Keys.Order(StringComparer.Ordinal));
        foreach (var (app, policy) in policies)
        {
            Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
            Assert.Equal(app, policy.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"]);
            var invocation = policy.Spec.Ingress.Where(rule => rule.Ports.Any(p => p.Port.Value == "50002")).ToList();
            var callers = ValueSets.CallersOf(app, ValueSets.NetworkPolicy).Concat(ValueSets.ExternalCallers(ValueSets.NetworkPolicy)).ToArray();
            var from = Assert.Single(Assert.Single(invocation).FromProperty).PodSelector.MatchExpressions.Single();
            Assert.Equal(("dapr.io/app-id", "In"), (from.Key, from.OperatorProperty));
            Assert.Equal(callers, from.Values);
            Assert.Contains(policy.Spec.Ingress, rule => rule.Ports.Any(p => p.Port.Value == "9090") && rule.FromProperty.Any(f => f.NamespaceSelector is not null));
            Assert.Contains(policy.Spec.Ingress, rule => rule.FromProperty.Any(f => f.PodSelector?.MatchLabels?["app.kubernetes.io/component"] == "helm-test"));
        }

        var monitors = chart.OfKind("ServiceMonitor").ToList();
        Assert.Equal(ValueSets.AllApps, monitors.Select(m => m.Name).Order(StringComparer.Ordinal));
        Assert.All(monitors, m => Assert.Equal(("monitoring.coreos.com/v1", "management", "/metrics", "kube-prometheus-stack"),
            (m.ApiVersion, (string?)m.Json["spec"]!["endpoints"]![0]!["port"], (string?)m.Json["spec"]!["endpoints"]![0]!["path"], (string?)m.Json["metadata"]!["labels"]!["release"])));

        Assert.Equal("http://minio.storage.svc:9000", (string?)Metadata(chart, "blobstore", "endpoint")["value"]);
        Assert.Equal("true", (string?)Metadata(chart, "blobstore", "forcePathStyle")["value"]);
        var user = chart.Deployments.Single(d => d.Name() == "user");
        Assert.Equal("ovasabi-admin", Env(user, "User__BootstrapAdmin__Username").Value);
        Assert.Equal("ovasabi-bootstrap-admin", Env(user, "User__BootstrapAdmin__Password").ValueFrom.SecretKeyRef.Name);
        Assert.All(chart.Deployments, d => Assert.Equal("http://otel-collector.observability.svc:4317", Env(d, "OTEL_EXPORTER_OTLP_ENDPOINT").Value));
        Assert.All(chart.OfKind("Configuration"), c => Assert.Equal("otel-collector.observability.svc:4317", (string?)c.Json["spec"]!["tracing"]!["otel"]!["endpointAddress"]));
        // Existing signing-key and app-token Secrets are used, not generated.
        Assert.Empty(chart.OfKind("Secret"));
        AssertEachAppHasItsOwnToken(chart, "ovasabi-app-api-token");
        Assert.Equal("auth-signing-keys", Env(chart.Deployments.Single(d => d.Name() == "auth"), "Auth__SigningKeys__Secret").Value);
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Sms_through_Twilio_takes_its_number_from_values_and_its_credentials_from_a_Secret_and_tells_the_app(int helm)
    {
        var chart = await Helm.Of(helm).RenderAsync(ValueSets.NetworkPolicy);

        Assert.Equal("bindings.twilio.sms", Type(chart, "sms"));
        Assert.Equal("+15005550006", (string?)Metadata(chart, "sms", "fromNumber")["value"]);
        Assert.Equal(("ovasabi-twilio", "accountSid", "authToken"), ((string?)Metadata(chart, "sms", "accountSid")["secretKeyRef"]!["name"],
            (string?)Metadata(chart, "sms", "accountSid")["secretKeyRef"]!["key"], (string?)Metadata(chart, "sms", "authToken")["secretKeyRef"]!["key"]));
        var notification = chart.Deployments.Single(d => d.Name() == "notification");
        Assert.Equal(("sms", "twilio"), (Env(notification, "Notification__SmsBinding").Value, Env(notification, "Notification__SmsProvider").Value));
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Webhook_bindings_render_one_bindings_http_component_each_scoped_to_notification_and_the_app_is_told_their_names(int helm)
    {
        var result = await Helm.Of(helm).TemplateAsync(null, "apps.notification.uses={email,webhooks}",
            "webhooks.bindings[0].name=partner-hooks", "webhooks.bindings[0].url=https://hooks.partner.example",
            "webhooks.bindings[1].name=ops-hooks", "webhooks.bindings[1].url=https://ops.example/in");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var chart = RenderedChart.Parse(result.Stdout);

        Assert.Equal(("bindings.http", "bindings.http"), (Type(chart, "partner-hooks"), Type(chart, "ops-hooks")));
        Assert.Equal("https://ops.example/in", (string?)Metadata(chart, "ops-hooks", "url")["value"]);
        Assert.Equal(["notification"], chart.OfKind("Component").Single(c => c.Name == "partner-hooks").Json["scopes"]!.AsArray().Select(n => (string?)n));
        var notification = chart.Deployments.Single(d => d.Name() == "notification");
        Assert.Equal(("partner-hooks", "ops-hooks"), (Env(notification, "Notification__WebhookBindings__0").Value, Env(notification, "Notification__WebhookBindings__1").Value));
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Mime_categories_go_to_the_smtp_relay_through_MailKit_with_the_credentials_from_the_Secret_and_bindings_smtp_as_fallback(int helm)
    {
        var result = await Helm.Of(helm).TemplateAsync(null, "email.mimeCategories={announcements}");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var notification = RenderedChart.Parse(result.Stdout).Deployments.Single(d => d.Name() == "notification");

        Assert.Equal(("smtp", "587", "Ovasabi <no-reply@example.com>"), (Env(notification, "Notification__SmtpRelays__relay__Host").Value,
            Env(notification, "Notification__SmtpRelays__relay__Port").Value, Env(notification, "Notification__SmtpRelays__relay__From").Value));
        Assert.Equal(("ovasabi-smtp", "password"), (Env(notification, "Notification__SmtpRelays__relay__Password").ValueFrom.SecretKeyRef.Name,
            Env(notification, "Notification__SmtpRelays__relay__Password").ValueFrom.SecretKeyRef.Key));
        Assert.Equal(("relay", "email"), (Env(notification, "Notification__EmailRoutes__announcements__0").Value, Env(notification, "Notification__EmailRoutes__announcements__1").Value));
        Assert.Equal("false", Env(notification, "Notification__SmtpRelays__relay__SkipTlsVerify").Value);
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task A_rate_per_second_for_email_and_sms_limits_the_bindings_and_the_relay_across_replicas(int helm)
    {
        var result = await Helm.Of(helm).TemplateAsync(null, "apps.notification.uses={email,sms}", "sms.type=http", "sms.url=https://sms.example.com/send",
            "sms.ratePerSecond=1", "email.ratePerSecond=12", "email.mimeCategories={announcements}");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var notification = RenderedChart.Parse(result.Stdout).Deployments.Single(d => d.Name() == "notification");

        Assert.Equal(("12", "12", "1"), (Env(notification, "Notification__BindingRates__email__PerSecond").Value,
            Env(notification, "Notification__BindingRates__relay__PerSecond").Value, Env(notification, "Notification__BindingRates__sms__PerSecond").Value));
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Sms_through_a_gateway_of_ones_own_is_bindings_http_to_its_url(int helm)
    {
        var result = await Helm.Of(helm).TemplateAsync(null, "apps.notification.uses={email,sms}", "sms.type=http", "sms.url=https://sms.example.com/send");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var chart = RenderedChart.Parse(result.Stdout);

        Assert.Equal("bindings.http", Type(chart, "sms"));
        Assert.Equal("https://sms.example.com/send", (string?)Metadata(chart, "sms", "url")["value"]);
        Assert.Equal("http", Env(chart.Deployments.Single(d => d.Name() == "notification"), "Notification__SmsProvider").Value);
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Every_app_that_checks_access_tokens_may_fetch_the_signing_keys_from_auth_through_access_control_and_the_network_policy(int helm)
    {
        // Missing once: every call with an access token to user or finance would have failed in a cluster.
        var chart = await Helm.Of(helm).RenderAsync(ValueSets.NetworkPolicy);
        var accessControl = chart.Single("Configuration", "auth-dapr-config").Json["spec"]!["accessControl"]!;
        var ingress = chart.Models<V1NetworkPolicy>().Single(p => p.Name() == "auth").Spec.Ingress
            .Single(rule => rule.Ports.Any(p => p.Port.Value == "50002")).FromProperty.Single().PodSelector.MatchExpressions.Single().Values;

        foreach (var app in ValueSets.BuiltApps.Where(app => app != "auth"))
        {
            Assert.True(AccessTable.Admits(accessControl, app, "/ovasabi.auth.v1.AuthService/GetJwks"), app);
            Assert.Contains(app, ingress);
        }
    }

    private static string? Type(RenderedChart chart, string component) => (string?)chart.Single("Component", component).Json["spec"]!["type"];

    private static JsonObject Metadata(RenderedChart chart, string component, string name) =>
        chart.Single("Component", component).Json["spec"]!["metadata"]!.AsArray().Select(i => i!.AsObject()).Single(i => (string?)i["name"] == name);

    private static V1EnvVar Env(V1Deployment deployment, string name) => deployment.Spec.Template.Spec.Containers[0].Env.Single(e => e.Name == name);
}
