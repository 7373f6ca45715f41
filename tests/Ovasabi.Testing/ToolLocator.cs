namespace Ovasabi.Testing;

/// <summary>
/// Finds the server binaries. Every input (PATH directories, the PostgreSQL install root, the repository root,
/// environment variables) is a constructor argument, so tests can point the lookup at places with nothing in them.
/// </summary>
internal sealed class ToolLocator(
    IReadOnlyList<string> searchDirectories,
    string postgresInstallRoot,
    string? repositoryRoot,
    Func<string, string?> environment)
{
    public const string S3rverVariable = "OVASABI_S3RVER";
    public const string MaildevVariable = "OVASABI_MAILDEV";

    private static readonly string[] PostgresTools = ["initdb", "pg_ctl", "postgres"];
    private static readonly TimeSpan PgConfigTimeout = TimeSpan.FromSeconds(10);

    public static ToolLocator Default { get; } = new(
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries),
        "/usr/lib/postgresql",
        RepositoryRoot.Find(),
        Environment.GetEnvironmentVariable);

    public string RedisServer() => Require("redis-server", OnSearchPath("redis-server"));

    public string Node() => Require("node", OnSearchPath("node"));

    /// <summary>s3rver's entry script: $OVASABI_S3RVER, then the copy `make deps` installs under .tools, then PATH.</summary>
    public string S3rver() => Require(
        "s3rver",
        ExistingFile(environment(S3rverVariable))
            ?? ExistingFile(repositoryRoot is null ? null : Path.Combine(repositoryRoot, ".tools", "node_modules", ".bin", "s3rver"))
            ?? OnSearchPath("s3rver"));

    /// <summary>maildev's entry script: $OVASABI_MAILDEV, then the copy `make deps` installs under .tools, then PATH.</summary>
    public string Maildev() => Require(
        "maildev",
        ExistingFile(environment(MaildevVariable))
            ?? ExistingFile(repositoryRoot is null ? null : Path.Combine(repositoryRoot, ".tools", "node_modules", ".bin", "maildev"))
            ?? OnSearchPath("maildev"));

    /// <summary>The directory holding initdb, pg_ctl and postgres: `pg_config --bindir`, else the newest version under the install root.</summary>
    public async Task<string> PostgresBinDirectoryAsync(CancellationToken cancellationToken)
    {
        var directory = await PgConfigBinDirectoryAsync(cancellationToken) ?? NewestInstalledPostgres()
            ?? throw new ToolNotFoundException(PostgresTools[0]);
        var missing = PostgresTools.FirstOrDefault(tool => !File.Exists(Path.Combine(directory, tool)));
        return missing is null ? directory : throw new ToolNotFoundException(missing);
    }

    private async Task<string?> PgConfigBinDirectoryAsync(CancellationToken cancellationToken)
    {
        if (OnSearchPath("pg_config") is not { } pgConfig)
        {
            return null;
        }

        var output = await ManagedProcess.RunAsync(new ProcessCommand(pgConfig, ["--bindir"]), PgConfigTimeout, cancellationToken);
        return output.Trim() is { Length: > 0 } directory && Directory.Exists(directory) ? directory : null;
    }

    private string? NewestInstalledPostgres()
    {
        if (!Directory.Exists(postgresInstallRoot))
        {
            return null;
        }

        return Directory.EnumerateDirectories(postgresInstallRoot)
            .Select(versionDirectory => (Version: ParseVersion(Path.GetFileName(versionDirectory)), Bin: Path.Combine(versionDirectory, "bin")))
            .Where(candidate => candidate.Version is not null && File.Exists(Path.Combine(candidate.Bin, "initdb")))
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => candidate.Bin)
            .FirstOrDefault();
    }

    // Debian names the directories "15" or "9.6"; Version.Parse wants at least two parts.
    private static Version? ParseVersion(string name) =>
        Version.TryParse(name.Contains('.') ? name : $"{name}.0", out var version) ? version : null;

    private string? OnSearchPath(string fileName) =>
        searchDirectories.Select(directory => ExistingFile(Path.Combine(directory, fileName))).FirstOrDefault(path => path is not null);

    private static string? ExistingFile(string? path) => !string.IsNullOrEmpty(path) && File.Exists(path) ? path : null;

    private static string Require(string tool, string? path) => path ?? throw new ToolNotFoundException(tool);
}
