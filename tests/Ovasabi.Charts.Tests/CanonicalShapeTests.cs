using System.Text.RegularExpressions;

namespace Ovasabi.Charts.Tests;

/// <summary>
/// Every app has the shape apps/README.md describes: the gRPC edge in Grpc/, the rules in Domain/ (free of gRPC,
/// protobuf and EF Core, so they are tested in-process), storage in Data/, events in Events/, time from TimeProvider,
/// and a unit-test project of its own.
/// </summary>
public sealed partial class CanonicalShapeTests
{
    public static TheoryData<string> Apps => new(AccessTable.AppIds);

    [Theory]
    [MemberData(nameof(Apps))]
    public void The_app_has_the_canonical_folders_and_a_unit_test_project(string app)
    {
        var root = Path.Combine(Helm.Root, "apps", app);

        Assert.All(new[] { "Grpc", "Domain", "Data", "Events" }, folder => Assert.True(Directory.Exists(Path.Combine(root, folder)), $"apps/{app}/{folder} is missing"));
        Assert.True(File.Exists(Path.Combine(root, "README.md")), $"apps/{app}/README.md is missing");
        var unitTests = Path.Combine(Helm.Root, "tests", $"Ovasabi.{char.ToUpperInvariant(app[0])}{app[1..]}.UnitTests");
        Assert.True(Directory.Exists(unitTests), $"{Path.GetRelativePath(Helm.Root, unitTests)} is missing");
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void Domain_code_uses_no_gRPC_protobuf_or_EF_Core_types(string app) =>
        AssertNoLine(Path.Combine("apps", app, "Domain"), Forbidden(), "the domain must not see gRPC, protobuf or EF Core (map in Grpc/, store in Data/)");

    [Theory]
    [MemberData(nameof(Apps))]
    public void The_gRPC_edge_reaches_the_database_only_through_Data(string app) =>
        AssertNoLine(Path.Combine("apps", app, "Grpc"), Storage(), "Grpc/ maps requests and answers; queries and transactions belong in Data/");

    [Fact]
    public void Apps_read_the_time_from_TimeProvider() =>
        AssertNoLine("apps", Clock(), "inject TimeProvider instead of reading the clock");

    /// <summary>Fails listing every line of the C# under <paramref name="folder"/> (build output and migrations aside) that matches.</summary>
    private static void AssertNoLine(string folder, Regex pattern, string why)
    {
        var found = Directory.EnumerateFiles(Path.Combine(Helm.Root, folder), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(s => s is "bin" or "obj" or "Migrations"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (Where: $"{Path.GetRelativePath(Helm.Root, f)}:{i + 1}", Line: line)))
            .Where(x => pattern.IsMatch(x.Line))
            .Select(x => $"{x.Where}: {x.Line.Trim()}")
            .ToList();

        Assert.True(found.Count == 0, why + ":\n" + string.Join("\n", found));
    }

    [GeneratedRegex(@"\bServerCallContext\b|\bGoogle\.Protobuf\b|\bMicrosoft\.EntityFrameworkCore\b|\bGrpc\.Core\b")]
    private static partial Regex Forbidden();

    [GeneratedRegex(@"\bMicrosoft\.EntityFrameworkCore\b|\b\w+DbContext\b")]
    private static partial Regex Storage();

    [GeneratedRegex(@"DateTime(Offset)?\.(UtcNow|Now)\b")]
    private static partial Regex Clock();
}
