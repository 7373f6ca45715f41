using System.Net.Sockets;

namespace Ovasabi.Testing;

internal static class Loopback
{
    public const string Address = "127.0.0.1";

    public static async Task<bool> IsListeningAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(Address, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
