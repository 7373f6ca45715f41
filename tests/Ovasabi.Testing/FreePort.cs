using System.Net;
using System.Net.Sockets;

namespace Ovasabi.Testing;

/// <summary>Picks a TCP port on 127.0.0.1 that nothing listens on right now.</summary>
public static class FreePort
{
    // Below Linux's ephemeral range (32768-60999): a port handed out here is bound seconds later (often by a child
    // process, after start-up work), and in the meantime an outgoing connection of any process could take an ephemeral one.
    private const int First = 20000;
    private const int Last = 32767;

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port nothing listens on, never one this process handed out before (callers bind it later, so two callers
    /// asking before either binds must not get the same one).
    /// </summary>
    public static int Next()
    {
        while (true)
        {
            var port = Random.Shared.Next(First, Last + 1);
            lock (HandedOut)
            {
                if (HandedOut.Contains(port))
                {
                    continue;
                }
            }
            if (!IsFree(port))
            {
                continue;
            }
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
