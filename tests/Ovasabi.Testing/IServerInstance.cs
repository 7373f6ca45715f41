namespace Ovasabi.Testing;

/// <summary>One running server, whichever backend provides it.</summary>
internal interface IServerInstance : IAsyncDisposable
{
    string Host { get; }

    int Port { get; }

    Task StartAsync(CancellationToken cancellationToken);

    Task StopAsync(CancellationToken cancellationToken);
}
