using Ovasabi.Testing;

namespace Ovasabi.Scaffold.Tests;

/// <summary>
/// A copy of the repository's sources (what git tracks or would track: no build output, no local state) in a folder of
/// its own, where the scaffold may write; removed with the fixture.
/// </summary>
public sealed class RepositoryCopy : IAsyncDisposable
{
    private RepositoryCopy(string root) => Root = root;

    public string Root { get; }

    public static string Source => RepositoryRoot.Find() ?? throw new InvalidOperationException("the repository root (ovasabi-dapr.sln) was not found");

    /// <summary>The build configuration of the running tests, which the copy builds in too.</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    public static async Task<RepositoryCopy> CreateAsync()
    {
        var root = Directory.CreateTempSubdirectory("ovasabi-scaffold-").FullName;
        var files = await ManagedProcess.RunAsync(new ProcessCommand("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"]) { WorkingDirectory = Source },
            TimeSpan.FromMinutes(1));
        foreach (var file in files.Split('\0', StringSplitOptions.RemoveEmptyEntries).Where(f => File.Exists(Path.Combine(Source, f))))
        {
            var target = Path.Combine(root, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(Source, file), target);
        }
        return new RepositoryCopy(root);
    }

    public string Read(string file) => File.ReadAllText(Path.Combine(Root, file));

    /// <summary>Runs the scaffold (built in the repository) on this copy; returns its output, or throws with it on a non-zero exit.</summary>
    public Task<string> NewServiceAsync(string name) =>
        ManagedProcess.RunAsync(new ProcessCommand("dotnet", [Path.Combine(Source, "tools", "Ovasabi.Scaffold", "bin", Configuration, "net10.0", "ovasabi-new-service.dll"), name, "--root", Root]),
            TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

    /// <summary>
    /// Runs <c>dotnet</c> in the copy; throws with the output on a non-zero exit. Its build shares the repository's
    /// ReadyToRun cache (Directory.Build.targets), so only what the copy changed is compiled again.
    /// </summary>
    public Task<string> DotnetAsync(params string[] arguments) =>
        ManagedProcess.RunAsync(new ProcessCommand("dotnet", arguments)
        {
            WorkingDirectory = Root,
            Environment = new Dictionary<string, string?>
            {
                ["MSBUILDDISABLENODEREUSE"] = "1",
                ["OvasabiReadyToRunCache"] = Path.Combine(Source, ".cache", "r2r") + Path.DirectorySeparatorChar,
            },
        }, TimeSpan.FromMinutes(10), TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return ValueTask.CompletedTask;
    }
}
