using DotNet.Testcontainers.Containers;

namespace Ovasabi.Testing;

/// <summary>A server in a Testcontainers container, published on a fixed host port so Stop/Start keep it.</summary>
internal sealed class ContainerServer(IContainer container, ushort containerPort) : IServerInstance
{
    public string Host => container.Hostname;

    public int Port => container.GetMappedPublicPort(containerPort);

    public static async Task<ContainerServer> LaunchAsync(IContainer container, ushort containerPort, CancellationToken cancellationToken)
    {
        try
        {
            await container.StartAsync(cancellationToken);
            return new ContainerServer(container, containerPort);
        }
        catch
        {
            await container.DisposeAsync();
            throw;
        }
    }

    /// <summary>The image named by <paramref name="variable"/>, else <paramref name="fallback"/>.</summary>
    public static string Image(string variable, string fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } image ? image : fallback;

    public Task StartAsync(CancellationToken cancellationToken) => container.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => container.StopAsync(cancellationToken);

    public ValueTask DisposeAsync() => container.DisposeAsync();
}
