namespace Ovasabi.Testing;

/// <param name="Command">The server process, running in the foreground.</param>
/// <param name="IsReady">Polled after each start until it answers true.</param>
/// <param name="Shutdown">A graceful stop; without one the process tree is killed.</param>
internal sealed record LocalServerDefinition(
    ProcessCommand Command,
    Func<CancellationToken, Task<bool>> IsReady,
    Func<CancellationToken, Task>? Shutdown = null);

/// <summary>
/// A server process on a loopback port with its own scratch directory; it can be stopped and started again
/// on the same port and directory, and the directory is deleted on dispose.
/// </summary>
internal sealed class LocalServer : IServerInstance
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    private readonly string directory;
    private readonly LocalServerDefinition definition;
    private ManagedProcess? process;

    private LocalServer(string directory, int port, LocalServerDefinition definition)
    {
        this.directory = directory;
        this.definition = definition;
        Port = port;
    }

    public string Host => Loopback.Address;

    public int Port { get; }

    /// <summary>Creates the scratch directory, picks a port, lets <paramref name="prepare"/> set things up, and starts the server.</summary>
    /// <param name="name">Part of the scratch directory's name.</param>
    /// <param name="prepare">Given the scratch directory and port; returns what to run.</param>
    public static async Task<LocalServer> LaunchAsync(
        string name,
        Func<string, int, CancellationToken, Task<LocalServerDefinition>> prepare,
        CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory($"ovasabi-{name}-").FullName;
        LocalServer? server = null;
        try
        {
            var port = FreePort.Next();
            server = new LocalServer(directory, port, await prepare(directory, port, cancellationToken));
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            if (server is null)
            {
                Directory.Delete(directory, recursive: true);
            }
            else
            {
                await server.DisposeAsync();
            }

            throw;
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (process is not null)
        {
            throw new InvalidOperationException($"{definition.Command.Name} on port {Port} is already running");
        }

        var started = ManagedProcess.Start(definition.Command);
        try
        {
            await started.WaitUntilReadyAsync(definition.IsReady, StartupTimeout, cancellationToken);
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }

        process = started;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (process is not { } running)
        {
            return;
        }

        process = null;
        await using (running)
        {
            if (definition.Shutdown is { } shutdown && !running.HasExited)
            {
                await shutdown(cancellationToken);
                await running.WaitForExitAsync(ShutdownTimeout, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(CancellationToken.None);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
