using System.Net.Sockets;

namespace Ovasabi.Testing;

/// <summary>A Docker-API engine (Docker or podman) that answered GET /_ping.</summary>
internal sealed record ContainerEngine(bool IsPodman)
{
    public const string DefaultSocket = "/var/run/docker.sock";

    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Pings DOCKER_HOST (unix:// or tcp://), else the default socket if it exists; null when nothing answers.</summary>
    public static async Task<ContainerEngine?> ProbeAsync(string? dockerHost, string defaultSocket, CancellationToken cancellationToken)
    {
        var endpoint = !string.IsNullOrEmpty(dockerHost) ? new Uri(dockerHost)
            : File.Exists(defaultSocket) ? new Uri($"unix://{defaultSocket}")
            : null;
        using var handler = new SocketsHttpHandler();
        Uri ping;
        switch (endpoint?.Scheme)
        {
            case "unix":
                var socketPath = endpoint.AbsolutePath;
                handler.ConnectCallback = (_, token) => ConnectUnixAsync(socketPath, token);
                ping = new Uri("http://localhost/_ping");
                break;
            case "tcp" or "http":
                ping = new UriBuilder("http", endpoint.Host, endpoint.Port, "/_ping").Uri;
                break;
            default:
                return null;
        }

        using var client = new HttpClient(handler) { Timeout = PingTimeout };
        try
        {
            using var response = await client.GetAsync(ping, cancellationToken);
            return response.IsSuccessStatusCode
                ? new ContainerEngine(IsPodman: response.Headers.Contains("Libpod-Api-Version"))
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>build-environment.md §7: the Ryuk image cannot be pulled, and podman reports its bridge gateway as the host.</summary>
    public static void ConfigureTestcontainersForPodman()
    {
        SetIfUnset("TESTCONTAINERS_RYUK_DISABLED", "true");
        SetIfUnset("TESTCONTAINERS_HOST_OVERRIDE", Loopback.Address);
    }

    private static void SetIfUnset(string variable, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable)))
        {
            Environment.SetEnvironmentVariable(variable, value);
        }
    }

    private static async ValueTask<Stream> ConnectUnixAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
