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
    public void Domain_code_uses_no_gRPC_protobuf_or_EF_Core_types(string app)
    {
        var found = Lines(Path.Combine(Helm.Root, "apps", app, "Domain"))
            .Where(x => Forbidden().IsMatch(x.Line))
            .Select(x => $"{x.Where}: {x.Line.Trim()}")
            .ToList();

        Assert.True(found.Count == 0, "the domain must not see gRPC, protobuf or EF Core (map in Grpc/, store in Data/):\n" + string.Join("\n", found));
    }

    [Fact]
    public void Apps_read_the_time_from_TimeProvider()
    {
        var found = Lines(Path.Combine(Helm.Root, "apps"))
            .Where(x => !x.Where.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && Clock().IsMatch(x.Line))
            .Select(x => $"{x.Where}: {x.Line.Trim()}")
            .ToList();

        Assert.True(found.Count == 0, "inject TimeProvider instead of reading the clock:\n" + string.Join("\n", found));
    }

    private static IEnumerable<(string Where, string Line)> Lines(string folder) =>
        Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(s => s is "bin" or "obj"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => ($"{Path.GetRelativePath(Helm.Root, f)}:{i + 1}", line)));

    [GeneratedRegex(@"\bServerCallContext\b|\bGoogle\.Protobuf\b|\bMicrosoft\.EntityFrameworkCore\b|\bGrpc\.Core\b")]
    private static partial Regex Forbidden();

    [GeneratedRegex(@"DateTime(Offset)?\.(UtcNow|Now)\b")]
    private static partial Regex Clock();
}
