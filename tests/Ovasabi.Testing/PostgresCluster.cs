namespace Ovasabi.Testing;

/// <summary>A throwaway PostgreSQL cluster in a scratch directory, run with the locally installed server binaries.</summary>
internal sealed class PostgresCluster(string binDirectory, string directory)
{
    public const string OsUser = "postgres";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private string DataDirectory => Path.Combine(directory, "data");

    /// <summary>initdb, then what runs and stops the server on <paramref name="port"/>.</summary>
    public async Task<LocalServerDefinition> CreateAsync(
        int port, Func<CancellationToken, Task<bool>> acceptsConnections, CancellationToken cancellationToken)
    {
        if (Environment.IsPrivilegedProcess)
        {
            await ManagedProcess.RunAsync(new ProcessCommand("chown", [$"{OsUser}:{OsUser}", directory]), CommandTimeout, cancellationToken);
        }

        await ManagedProcess.RunAsync(
            Tool("initdb", "-D", DataDirectory, "-U", PostgresServer.Superuser, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
            CommandTimeout,
            cancellationToken);
        return new LocalServerDefinition(
            // postgres in the foreground rather than `pg_ctl start`, which detaches it: as a ManagedProcess its log is
            // captured and it dies with the test host.
            Tool(
                "postgres", "-D", DataDirectory, "-p", $"{port}", "-k", directory,
                "-c", $"listen_addresses={Loopback.Address}",
                "-c", $"max_connections={PostgresServer.MaxConnections}",
                // Test-only durability trade-off: about 3x the throughput (build-environment.md §2).
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off"),
            acceptsConnections,
            stop => ManagedProcess.RunAsync(Tool("pg_ctl", "stop", "-D", DataDirectory, "-m", "fast", "-w"), CommandTimeout, stop));
    }

    // The server binaries refuse to run as root: as root, run them as the postgres OS user, who then owns the directory.
    private ProcessCommand Tool(string name, params string[] arguments)
    {
        var command = new ProcessCommand(Path.Combine(binDirectory, name), arguments) { WorkingDirectory = directory };
        return Environment.IsPrivilegedProcess ? command.AsUser(OsUser) : command;
    }
}
