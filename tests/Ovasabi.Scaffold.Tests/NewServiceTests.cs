using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Ovasabi.Scaffold.Tests;

/// <summary>
/// <c>make new-service NAME=widget</c> run into a copy of the repository: the app in the canonical shape, wired
/// into the solution, dapr.yaml, the access table, the local access control and the chart; it builds, migrates,
/// answers health and passes its own unit and acceptance tests (through the sidecars, with the user and auth apps).
/// </summary>
public sealed class NewServiceTests(ScaffoldedCopy scaffolded) : IClassFixture<ScaffoldedCopy>
{
    private readonly RepositoryCopy _copy = scaffolded.Copy;
    private readonly string _output = scaffolded.Output;

    [Fact]
    public async Task The_new_app_builds_migrates_answers_and_passes_its_unit_and_acceptance_tests()
    {
        var configuration = RepositoryCopy.Configuration;

        foreach (var project in new[] { "tests/Ovasabi.Widget.UnitTests", "tests/Ovasabi.Widget.Tests" })
        {
            await _copy.DotnetAsync("build", project, "-c", configuration, "-nologo", "-v", "q", "-clp:ErrorsOnly");
        }
        var unit = await _copy.DotnetAsync("test", "--project", "tests/Ovasabi.Widget.UnitTests", "-c", configuration, "--no-build");
        var acceptance = await _copy.DotnetAsync("test", "--project", "tests/Ovasabi.Widget.Tests", "-c", configuration, "--no-build");

        Assert.Matches(@"total: [1-9]\d*\s+failed: 0", unit);
        // Health, a created item read back and announced, NotFound for another user, InvalidArgument for a bad name.
        Assert.Matches(@"total: 4\s+failed: 0", acceptance);
    }

    [Fact]
    public void The_app_has_the_canonical_shape_and_the_names_of_the_new_service()
    {
        foreach (var path in new[]
                 {
                     "apps/widget/widget.csproj", "apps/widget/Program.cs", "apps/widget/WidgetServiceRegistration.cs",
                     "apps/widget/README.md", "apps/widget/Grpc/WidgetGrpcService.cs", "apps/widget/Domain/WidgetOptions.cs",
                     "apps/widget/Data/WidgetDbContext.cs", "apps/widget/Events/WidgetEvents.cs",
                     "protos/ovasabi/widget/v1/widget.proto", "protos/ovasabi/widget/v1/events.proto",
                 })
        {
            Assert.True(File.Exists(Path.Combine(_copy.Root, path)), $"{path} is missing");
        }
        var migrations = Directory.GetFiles(Path.Combine(_copy.Root, "apps/widget/Data/Migrations"), "*_Initial.cs");
        Assert.Matches(@"^\d{14}_Initial\.cs$", Path.GetFileName(Assert.Single(migrations)));
        Assert.Contains("package ovasabi.widget.v1;", _copy.Read("protos/ovasabi/widget/v1/widget.proto"));
        Assert.Contains("\"widget.item.created\"", _copy.Read("protos/ovasabi/widget/v1/events.proto"));
        var sources = Directory.EnumerateFiles(Path.Combine(_copy.Root, "apps/widget"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(segment => segment is "bin" or "obj"));
        Assert.DoesNotMatch("(?i)sample", string.Join("\n", sources.Select(File.ReadAllText)));
    }

    [Fact]
    public void The_app_joins_dapr_yaml_on_the_next_free_ports_so_make_run_starts_it()
    {
        var apps = (YamlSequenceNode)Yaml("dapr.yaml")["apps"];
        var entry = (YamlMappingNode)apps.Children.Single(app => Scalar(app, "appID") == "widget");

        Assert.Equal(("./apps/widget", "5105", "3505", "50105", "9105"),
            (Scalar(entry, "appDirPath"), Scalar(entry, "appPort"), Scalar(entry, "daprHTTPPort"), Scalar(entry, "daprGRPCPort"), Scalar(entry, "metricsPort")));
        Assert.Equal("8105", Scalar(entry["env"], "MANAGEMENT_PORT"));
        Assert.EndsWith("Database=widget", Scalar(entry["env"], "ConnectionStrings__Database"));
    }

    [Fact]
    public void The_access_table_the_local_access_control_and_the_chart_know_the_app()
    {
        var access = (YamlMappingNode)Yaml("protos/ovasabi/access.yaml")["apps"]["widget"];
        Assert.Equal("ovasabi.widget.v1.WidgetService", ((YamlSequenceNode)access["serves"]).Children.Single().ToString());
        Assert.Equal("ovasabi.auth.v1.AuthService/GetJwks", ((YamlSequenceNode)access["calls"]).Children.Single().ToString());

        var local = _copy.Read("components/config.yaml");
        Assert.Contains("- appId: widget", local);
        Assert.Contains("- name: /ovasabi.widget.v1.WidgetService/*", local);

        var chart = (YamlMappingNode)Yaml("charts/ovasabi/values.yaml")["apps"]["widget"];
        Assert.Equal("true", Scalar(chart, "enabled"));

        var solution = _copy.Read("ovasabi-dapr.sln");
        Assert.All(new[] { "widget.csproj", "Ovasabi.Widget.UnitTests.csproj", "Ovasabi.Widget.Tests.csproj" }, project => Assert.Contains(project, solution));
        Assert.Contains("make run", _output);
    }

    [Theory]
    [InlineData("Widget", "is not a service name")]
    [InlineData("no-tify", "is not a service name")]
    [InlineData("9lives", "is not a service name")]
    [InlineData("x", "is not a service name")]
    [InlineData("gateway", "is not a service name")]
    [InlineData("user", "apps/user exists already")]
    [InlineData("notification", "apps/notification exists already")]
    public async Task A_bad_or_taken_name_is_refused_and_changes_nothing(string name, string reason)
    {
        var before = Snapshot();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _copy.NewServiceAsync(name));

        Assert.Contains(reason, error.Message);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task A_repository_file_without_its_anchor_stops_the_scaffold_before_anything_is_written()
    {
        var config = Path.Combine(_copy.Root, "components/config.yaml");
        var original = File.ReadAllText(config);
        File.WriteAllText(config, Regex.Replace(original, "(?m)^      - appId: gateway\n", ""));
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _copy.NewServiceAsync("quotes"));

            Assert.Contains("components/config.yaml: the gateway policy", error.Message);
            Assert.False(Directory.Exists(Path.Combine(_copy.Root, "apps/quotes")));
            Assert.DoesNotContain("quotes", _copy.Read("dapr.yaml"));
        }
        finally
        {
            File.WriteAllText(config, original);
        }
    }

    private string Snapshot() => string.Join("\n", new[] { "dapr.yaml", "protos/ovasabi/access.yaml", "components/config.yaml", "charts/ovasabi/values.yaml", "ovasabi-dapr.sln" }
        .Select(_copy.Read).Append(string.Join(",", Directory.GetDirectories(Path.Combine(_copy.Root, "apps")).Order())));

    private YamlMappingNode Yaml(string file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(_copy.Read(file)));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;
}

/// <summary>One copy of the repository with the widget service scaffolded, for every test of the class (they run one after another).</summary>
public sealed class ScaffoldedCopy : IAsyncLifetime
{
    public RepositoryCopy Copy { get; private set; } = null!;

    /// <summary>What the scaffold printed.</summary>
    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        Copy = await RepositoryCopy.CreateAsync();
        Output = await Copy.NewServiceAsync("widget");
    }

    public ValueTask DisposeAsync() => Copy.DisposeAsync();
}
