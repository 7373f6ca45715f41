using Xunit;

namespace Ovasabi.Testing;

/// <summary>
/// Base of the server fixtures: started by xunit (assembly, collection or class fixture) or by hand
/// with InitializeAsync, stoppable and restartable on the same port, gone after DisposeAsync.
/// </summary>
public abstract class ServerFixture : IAsyncLifetime
{
    private IServerInstance? instance;

    private protected ServerFixture()
    {
    }

    public string Host => Instance.Host;

    public int Port => Instance.Port;

    private protected IServerInstance Instance =>
        instance ?? throw new InvalidOperationException($"{GetType().Name} is not running: use it as an xunit fixture or await InitializeAsync() first");

    public async ValueTask InitializeAsync()
    {
        if (instance is not null)
        {
            throw new InvalidOperationException($"{GetType().Name} is already initialized");
        }

        instance = await LaunchAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Stops the server, keeping its port and scratch directory: PostgreSQL and s3rver keep their data, Redis comes back empty.</summary>
    public virtual Task StopAsync(CancellationToken cancellationToken = default) => Instance.StopAsync(cancellationToken);

    /// <summary>Starts a stopped server again on the same port and data directory.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => Instance.StartAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (instance is { } running)
        {
            instance = null;
            await running.DisposeAsync();
        }
    }

    private protected abstract Task<IServerInstance> LaunchAsync(CancellationToken cancellationToken);
}
