using System.Diagnostics;

namespace Ovasabi.Testing.Tests;

/// <summary>Ports handed out to one test process are off limits to the others until it exits.</summary>
public sealed class FreePortTests
{
    [Fact]
    public async Task A_handed_out_port_is_locked_against_other_processes_and_never_handed_out_twice()
    {
        var ports = Enumerable.Range(0, 50).Select(_ => FreePort.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        // flock(1) stands in for another test process: it cannot take the reservation this process holds.
        using var other = Process.Start(new ProcessStartInfo("flock", ["--nonblock", FreePort.ReservationOf(ports[0]), "true"]))!;
        await other.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, other.ExitCode);
    }
}
