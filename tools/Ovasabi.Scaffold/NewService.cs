using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Ovasabi.Scaffold;

/// <summary>A refusal the user can act on: a bad name, an app that exists, a repository file not as expected.</summary>
public sealed class ScaffoldException(string message) : Exception(message);

/// <summary>
/// Creates app <see cref="Name"/> from <c>tools/Ovasabi.Scaffold/template</c> (every <c>sample</c>, <c>Sample</c> and
/// <c>SAMPLE</c> in paths and text becomes the name) and wires it in. The repository's YAML files are edited as text at
/// known anchors, so their comments stay; an anchor that is missing stops the scaffold before anything is written.
/// </summary>
public sealed partial class NewService
{
    private const string Token = "sample";
    private const string MigrationStamp = "00000000000000";

    private readonly string _root;
    private readonly int _index;

    public NewService(string root, string name)
    {
        if (!ValidName().IsMatch(name) || name is "gateway" or "common")
        {
            throw new ScaffoldException($"'{name}' is not a service name: 2-30 lower-case letters and digits, starting with a letter (it is the app ID, folder and proto package)");
        }
        if (!File.Exists(Path.Combine(root, "ovasabi-dapr.sln")))
        {
            throw new ScaffoldException($"{root} is not the repository (no ovasabi-dapr.sln)");
        }
        if (Directory.Exists(Path.Combine(root, "apps", name)))
        {
            throw new ScaffoldException($"apps/{name} exists already");
        }
        (_root, Name) = (root, name);
        var ports = AppPort().Matches(Read("dapr.yaml")).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        _index = ports.Count == 0 ? 1 : ports.Max() + 1;
    }

    public string Name { get; }

    private string Pascal => char.ToUpperInvariant(Name[0]) + Name[1..];

    public string Ports => $"app 51{_index:00}, management 81{_index:00}, sidecar HTTP 35{_index:00} and gRPC 501{_index:00}";

    /// <summary>Writes the app and the wiring; returns what was done, one line each.</summary>
    public IEnumerable<string> Create()
    {
        // Every edit is computed first, so a repository file that is not as expected changes nothing.
        var edits = new (string File, string Text)[]
        {
            ("dapr.yaml", DaprYaml()),
            ("protos/ovasabi/access.yaml", AccessTable()),
            ("components/config.yaml", LocalAccessControl()),
            ("charts/ovasabi/values.yaml", ChartValues()),
        };
        var template = Path.Combine(_root, "tools", "Ovasabi.Scaffold", "template");
        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var written = new List<string>();
        foreach (var source in Directory.EnumerateFiles(template, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Rename(Path.GetRelativePath(template, source)).Replace(MigrationStamp, stamp, StringComparison.Ordinal);
            var target = Path.Combine(_root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllText(target, Rename(File.ReadAllText(source)).Replace(MigrationStamp, stamp, StringComparison.Ordinal));
            written.Add(relative);
        }
        yield return $"created {written.Count} files: apps/{Name}, protos/ovasabi/{Name}/v1, tests/Ovasabi.{Pascal}.UnitTests, tests/Ovasabi.{Pascal}.Tests";
        foreach (var (file, text) in edits)
        {
            File.WriteAllText(Path.Combine(_root, file), text);
            yield return $"updated {file}";
        }
        foreach (var project in new[] { $"apps/{Name}/{Name}.csproj", $"tests/Ovasabi.{Pascal}.UnitTests/Ovasabi.{Pascal}.UnitTests.csproj", $"tests/Ovasabi.{Pascal}.Tests/Ovasabi.{Pascal}.Tests.csproj" })
        {
            Dotnet("sln", "ovasabi-dapr.sln", "add", project);
        }
        yield return "added the app and its two test projects to ovasabi-dapr.sln";
    }

    private string Rename(string text) =>
        text.Replace(Token.ToUpperInvariant(), Name.ToUpperInvariant(), StringComparison.Ordinal)
            .Replace("Sample", Pascal, StringComparison.Ordinal)
            .Replace(Token, Name, StringComparison.Ordinal);

    /// <summary>dapr.yaml: the app after the last one, on the next free ports of the scheme (51nn, 81nn, 35nn, 501nn, 91nn).</summary>
    private string DaprYaml()
    {
        var text = Read("dapr.yaml").TrimEnd('\n');
        var n = _index.ToString("00", CultureInfo.InvariantCulture);
        return text + $"""

              - appID: {Name}
                appDirPath: ./apps/{Name}
                appPort: 51{n}
                daprHTTPPort: 35{n}
                daprGRPCPort: 501{n}
                metricsPort: 91{n}
                command: ["dotnet", "bin/Release/net10.0/{Name}.dll"]
                env:
                  MANAGEMENT_PORT: "81{n}"
                  ConnectionStrings__Database: "Host=127.0.0.1;Port=5433;Username=postgres;Database={Name}"

            """;
    }

    /// <summary>The access table: the app serves its service and calls only GetJwks; a user may read their own items.</summary>
    private string AccessTable()
    {
        var text = Read("protos/ovasabi/access.yaml");
        var own = OwnGrants().Match(text);
        if (!own.Success)
        {
            throw new ScaffoldException("protos/ovasabi/access.yaml: no `user:` role with an `own:` list found");
        }
        text = text.Insert(own.Index + own.Length, $"      - {Name}.items.read\n");
        return text.TrimEnd('\n') + $"""

              {Name}:
                serves: [ovasabi.{Name}.v1.{Pascal}Service]
                calls:
                  - ovasabi.auth.v1.AuthService/GetJwks

            """;
    }

    /// <summary>components/config.yaml: the app's own policy (what it may call), and the gateway reaching its service.</summary>
    private string LocalAccessControl()
    {
        var text = Read("components/config.yaml");
        const string gateway = "      - appId: gateway\n";
        const string health = "          - name: /grpc.health.v1.Health/*\n";
        var (policy, reach) = (text.IndexOf(gateway, StringComparison.Ordinal), text.IndexOf(health, StringComparison.Ordinal));
        if (policy < 0 || reach < policy)
        {
            throw new ScaffoldException("components/config.yaml: the gateway policy with its grpc.health.v1.Health operation was not found");
        }
        text = text.Insert(reach, $"          - name: /ovasabi.{Name}.v1.{Pascal}Service/*\n            action: allow\n");
        return text.Insert(policy, $"""
                  - appId: {Name}
                    defaultAction: deny
                    trustDomain: public
                    namespace: default
                    operations:
                      - name: /ovasabi.auth.v1.AuthService/GetJwks
                        action: allow

            """);
    }

    /// <summary>The chart's values: the app enabled (its entry exists for the planned services; a new name gets one).</summary>
    private string ChartValues()
    {
        var text = Read("charts/ovasabi/values.yaml");
        var entry = Regex.Match(text, $"(?m)^  {Name}:\\n    enabled: (true|false)\\n");
        if (entry.Success)
        {
            return text.Remove(entry.Index, entry.Length).Insert(entry.Index, $"  {Name}:\n    enabled: true\n");
        }
        // The map ends at the first blank line after `apps:`; the new entry goes last.
        var apps = Regex.Match(text, "(?m)^apps:\\n(?:  .*\\n)+");
        if (!apps.Success)
        {
            throw new ScaffoldException("charts/ovasabi/values.yaml: no top-level `apps:` map found");
        }
        return text.Insert(apps.Index + apps.Length, $"  {Name}:\n    enabled: true\n    uses: []\n");
    }

    private string Read(string file) => File.ReadAllText(Path.Combine(_root, file));

    private void Dotnet(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new ScaffoldException($"dotnet {string.Join(' ', arguments)} failed: {output.Trim()}");
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9]{1,29}$")]
    private static partial Regex ValidName();

    [GeneratedRegex(@"(?m)^\s*appPort: 51(\d\d)\s*$")]
    private static partial Regex AppPort();

    // The user role's `own:` list: its last item ends the match.
    [GeneratedRegex(@"(?m)^  user:\n(?:    .*\n)*?    own:\n(?:      .*\n)+")]
    private static partial Regex OwnGrants();
}
