using System.Net;
using System.Net.Sockets;

namespace Ovasabi.Testing;

/// <summary>Picks a TCP port on 127.0.0.1 that nothing listens on right now.</summary>
public static class FreePort
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port nothing listens on, never one this process handed out before: callers bind it later (often in a child
    /// process), and the OS would otherwise give the same port to two callers that ask before either binds.
    /// </summary>
    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
