using System.Net;
using System.Net.Sockets;

namespace Ovasabi.Testing;

/// <summary>
/// Picks a TCP port on 127.0.0.1 that nothing listens on right now and that no other test process on the machine has
/// picked: test assemblies run side by side, each handing out ports that are bound only seconds later.
/// </summary>
public static class FreePort
{
    // Below Linux's ephemeral range (32768-60999): a port handed out here is bound seconds later (often by a child
    // process, after start-up work), and in the meantime an outgoing connection of any process could take an ephemeral one.
    private const int First = 20000;
    private const int Last = 32767;

    private static readonly HashSet<int> Tried = [];

    // One lock file per port handed out, held (flock, through FileShare.None) until this process exits, when the
    // kernel releases it: another process skips a port whose file it cannot lock.
    private static readonly string Reservations = Path.Combine(Path.GetTempPath(), "ovasabi-dapr-ports");
    private static readonly List<FileStream> Held = [];

    /// <summary>
    /// A port nothing listens on, never one this process handed out before (callers bind it later, so two callers
    /// asking before either binds must not get the same one).
    /// </summary>
    public static int Next()
    {
        while (true)
        {
            var port = Random.Shared.Next(First, Last + 1);
            lock (Tried)
            {
                // Tried once per process: a port handed out, busy or reserved elsewhere is not worth another look.
                if (Tried.Add(port) && Reserve(port) && IsFree(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>The lock file of <paramref name="port"/>, if no other live process holds it.</summary>
    public static string ReservationOf(int port) => Path.Combine(Reservations, $"{port}.lock");

    private static bool Reserve(int port)
    {
        Directory.CreateDirectory(Reservations);
        try
        {
            Held.Add(new FileStream(ReservationOf(port), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            return true;
        }
        catch (IOException)
        {
            return false;
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
