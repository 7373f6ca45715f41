namespace Ovasabi.Charts.Tests;

/// <summary>The CRD validator itself: it must refuse what an API server would refuse, and unknown fields.</summary>
public sealed class DaprCrdSchemaTests
{
    private const string Valid = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: state.redis
          version: v1
          metadata:
          - name: redisHost
            value: localhost:6379
          - name: redisPassword
            secretKeyRef: { name: redis, key: password }
        scopes: [user]
        """;

    [Fact]
    public void A_valid_component_passes() => Assert.Empty(DaprCrdSchemas.Validate(YamlJson.LoadAll(Valid).Single()));

    [Theory]
    [InlineData("  version: v1\n", "  version: v1\n  typo: x\n", "typo")]
    [InlineData("  version: v1\n", "", "version")]
    [InlineData("scopes: [user]", "scopes: user", "scopes")]
    [InlineData("secretKeyRef: { name: redis, key: password }", "secretKeyRef: { key: password }", "name")]
    [InlineData("kind: Component", "kind: Componnet", "no Dapr CRD defines")]
    public void An_unknown_field_a_missing_required_field_a_wrong_type_or_an_unknown_kind_is_refused(string from, string to, string expected)
    {
        var errors = DaprCrdSchemas.Validate(YamlJson.LoadAll(Valid.Replace(from, to, StringComparison.Ordinal)).Single());

        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Access_control_policies_and_resiliency_targets_are_checked_too()
    {
        var configuration = YamlJson.LoadAll("""
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata: { name: c }
            spec:
              accessControl:
                defaultAction: deny
                policies:
                - defaultAction: allow
            """).Single();
        var resiliency = YamlJson.LoadAll("""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata: { name: r }
            spec:
              policies: { retries: { call: { maxRetries: two } } }
              targets: {}
            """).Single();

        Assert.Contains(DaprCrdSchemas.Validate(configuration), e => e.Contains("appId", StringComparison.Ordinal));
        Assert.Contains(DaprCrdSchemas.Validate(resiliency), e => e.Contains("maxRetries", StringComparison.Ordinal));
    }
}
