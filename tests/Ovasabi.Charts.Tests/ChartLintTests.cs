namespace Ovasabi.Charts.Tests;

public sealed class ChartLintTests
{
    [Theory]
    [MemberData(nameof(ValueSets.WithBothHelms), MemberType = typeof(ValueSets))]
    public async Task Helm_lint_strict_passes_without_warnings(int helm, string? valueSet)
    {
        var result = await Helm.Of(helm).LintAsync(valueSet);

        Assert.True(result.ExitCode == 0, $"helm {helm} lint --strict ({valueSet ?? "defaults"}):\n{result.Stdout}\n{result.Stderr}");
        Assert.DoesNotContain("[WARNING]", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("[ERROR]", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Helm.Majors), MemberType = typeof(Helm))]
    public async Task Helm_lint_strict_fails_on_a_value_the_schema_refuses(int helm)
    {
        var result = await Helm.Of(helm).RunAsync("lint", "--strict", Helm.Chart, "--set", "stateStore.type=mongo");

        Assert.NotEqual(0, result.ExitCode);
    }
}
