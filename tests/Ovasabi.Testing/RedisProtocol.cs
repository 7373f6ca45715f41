using System.Net.Sockets;
using System.Text;

namespace Ovasabi.Testing;

/// <summary>Single inline Redis commands over a fresh connection: enough for readiness and FLUSHALL without a client library.</summary>
internal static class RedisProtocol
{
    public static async Task<string> SendAsync(string host, int port, string command, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{command}\r\n"), cancellationToken);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadLineAsync(cancellationToken)
            ?? throw new IOException($"Redis at {host}:{port} closed the connection without answering {command}");
    }

    public static async Task<bool> AnswersPingAsync(string host, int port, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(host, port, "PING", cancellationToken) == "+PONG";
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return false;
        }
    }
}
