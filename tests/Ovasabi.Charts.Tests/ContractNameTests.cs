using System.Text.RegularExpressions;
using Ovasabi.Contracts;

namespace Ovasabi.Charts.Tests;

/// <summary>
/// Names are written once, in the contracts: topics in each service's <c>&lt;Service&gt;Topic</c> enum, who may call
/// whom in protos/ovasabi/access.yaml. Everything else (apps, tests, tools, the chart, the local platform) reads them.
/// </summary>
public sealed partial class ContractNameTests
{
    [Fact]
    public void Every_topic_is_declared_once_as_service_entity_event_by_the_service_that_publishes_it()
    {
        var topics = TopicName.Declared();

        Assert.True(topics.Count >= 20, $"only {topics.Count} topics declared");
        Assert.Equal(topics.Count, topics.Distinct().Count());
        Assert.All(topics, t => Assert.Matches(TopicShape(), t));
        Assert.All(topics, t => Assert.Contains(t.Split('.')[0], AccessTable.AppIds));
    }

    [Fact]
    public void No_file_outside_protos_spells_a_topic_as_a_literal()
    {
        var topics = TopicName.Declared();
        var literal = new Regex("[\"'](" + string.Join("|", topics.Select(Regex.Escape)) + ")[\"']", RegexOptions.CultureInvariant);
        string[] folders = ["apps", "tests", "tools", "bench", "charts", "components"];
        var files = folders.SelectMany(f => Directory.EnumerateFiles(Path.Combine(Helm.Root, f), "*", SearchOption.AllDirectories))
            .Concat([Path.Combine(Helm.Root, "dapr.yaml"), Path.Combine(Helm.Root, "Makefile")])
            .Where(f => Path.GetExtension(f) is ".cs" or ".yaml" or ".yml" or ".json" or ".sh" or "" && !IsBuildOutput(f));

        var found = files.SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => literal.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(Helm.Root, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();

        Assert.True(found.Count == 0, "topics spelt outside protos/ (name the <Service>Topic value instead):\n" + string.Join("\n", found));
    }

    [Fact]
    public void No_app_chart_or_local_file_lists_who_may_call_an_RPC_but_the_access_table()
    {
        // components/config.yaml carries the table's policies for the dev sidecars (checked against it by
        // LocalPlatformTests); the scaffold writes a new app's grants into the table. Tests name RPCs as matrix rows.
        var grant = new Regex(@"ovasabi\.[a-z]+\.v1\.[A-Za-z]+Service/[A-Z*]", RegexOptions.CultureInvariant);
        string[] folders = ["apps", "charts", "tools", "bench"];
        var files = folders.SelectMany(f => Directory.EnumerateFiles(Path.Combine(Helm.Root, f), "*", SearchOption.AllDirectories))
            .Concat([Path.Combine(Helm.Root, "dapr.yaml"), Path.Combine(Helm.Root, "Makefile")])
            .Where(f => !IsBuildOutput(f) && !f.Contains(Path.Combine("tools", "Ovasabi.Scaffold"), StringComparison.Ordinal))
            .Where(f => Path.GetExtension(f) is ".cs" or ".yaml" or ".yml" or ".tpl" or ".json" or ".sh" or "" && Path.GetFileName(f) != "access.yaml");

        var found = files.SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => grant.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(Helm.Root, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();

        Assert.True(found.Count == 0, "grants spelt outside protos/ovasabi/access.yaml (read the table instead):\n" + string.Join("\n", found));
    }

    private static bool IsBuildOutput(string path) =>
        path.Split(Path.DirectorySeparatorChar).Any(segment => segment is "bin" or "obj" or "node_modules" or ".dapr");

    [GeneratedRegex("^[a-z]+\\.[a-z]+\\.[a-z_]+$")]
    private static partial Regex TopicShape();
}
