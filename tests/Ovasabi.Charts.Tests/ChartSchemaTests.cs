namespace Ovasabi.Charts.Tests;

/// <summary>Wrong values stop `helm template` with a message that names the value, under both Helm majors.</summary>
public sealed class ChartSchemaTests
{
    public static TheoryData<int, string, string[]> WrongValues()
    {
        var cases = new (string Set, string[] Message)[]
        {
            ("stateStore.type=mongo", ["stateStore", "redis", "postgresql"]),
            ("apps.finance.replicaz=2", ["replicaz"]),
            ("appDefaults.replicas=-1", ["replicas"]),
            ("database.migrations=sometimes", ["migrations", "job", "startup"]),
            ("image.pullPolicy=Sometimes", ["pullPolicy"]),
            ("redis.host=redis", ["redis", "host"]),
            ("apps.finance.uses={mongo}", ["uses"]),
            // Whom an app may call comes from the access table, never from values.
            ("apps.finance.calls={notification}", ["calls"]),
            ("security.serviceCallers={finance}", ["serviceCallers"]),
            ("security.bootstrapAdmin.username=admin", ["security.bootstrapAdmin.passwordSecret.name", "required"]),
            ("apps.notification.uses={email,sms}", ["sms.fromNumber", "required"]),
            ("sms.fromNumber=0612345678", ["fromNumber"]),
            ("sms.type=pigeon", ["type"]),
            ("apps.notification.uses={email,webhooks}", ["webhooks.bindings", "at least one"]),
            ("apps.notification.uses={email,webhooks},webhooks.bindings[0].name=sms,webhooks.bindings[0].url=https://h.example", ["webhooks.bindings", "sms", "platform's components"]),
            ("apps.notification.uses={email,webhooks},webhooks.bindings[0].name=h,webhooks.bindings[0].url=https://h.example,webhooks.bindings[1].name=h,webhooks.bindings[1].url=https://i.example",
                ["webhooks.bindings", "listed twice"]),
            ("webhooks.bindings[0].name=Hooks,webhooks.bindings[0].url=https://h.example", ["name"]),
            ("webhooks.bindings[0].name=h,webhooks.bindings[0].url=ftp://h.example", ["url"]),
            ("email.mimeCategories={gossip}", ["mimeCategories"]),
            ("sms.ratePerSecond=-1", ["ratePerSecond"]),
        };
        var data = new TheoryData<int, string, string[]>();
        foreach (var major in new[] { 3, 4 })
        {
            foreach (var (set, message) in cases)
            {
                data.Add(major, set, message);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(WrongValues))]
    public async Task A_wrong_value_fails_helm_template_with_a_message_naming_it(int helm, string set, string[] message)
    {
        var result = await Helm.Of(helm).TemplateAsync(null, set);

        Assert.NotEqual(0, result.ExitCode);
        Assert.All(message, part => Assert.Contains(part, result.Stderr, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Without_Dapr_in_the_cluster_the_chart_says_to_install_Dapr_first(int helm)
    {
        var result = await Helm.Of(helm).TemplateAsync(null, apis: []);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("install Dapr first", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task ServiceMonitors_without_the_Prometheus_Operator_API_are_refused_with_a_clear_message(int helm)
    {
        var result = await Helm.Of(helm).TemplateAsync(null, apis: ["dapr.io/v1alpha1"], "serviceMonitor.enabled=true");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("monitoring.coreos.com/v1", result.Stderr, StringComparison.Ordinal);
    }
}
