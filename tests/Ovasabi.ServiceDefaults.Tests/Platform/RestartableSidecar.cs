using Ovasabi.Testing.Sidecars;

namespace Ovasabi.ServiceDefaults.Tests.Platform;

/// <summary>
/// A dev sidecar that can be stopped and started again on the same ports, as a restarted daprd comes back where the
/// app expects it.
/// </summary>
public sealed class RestartableSidecar : IAsyncDisposable
{
    private RestartableSidecar(SidecarLaunch launch, SidecarPorts ports)
    {
        Launch = launch;
        Ports = ports;
    }

    public SidecarLaunch Launch { get; }

    public SidecarPorts Ports { get; }

    public int HttpPort => Ports.Http;

    public int GrpcPort => Ports.Grpc;

    /// <summary>The running process, or null while stopped.</summary>
    public SidecarProcess? Current { get; private set; }

    public SidecarProcess Running => Current ?? throw new InvalidOperationException($"the sidecar of {Launch.AppId} is stopped");

    public static async Task<RestartableSidecar> StartAsync(SidecarLaunch launch)
    {
        var sidecar = new RestartableSidecar(launch, SidecarPorts.Free());
        await sidecar.StartAgainAsync();
        return sidecar;
    }

    /// <summary>Starts the sidecar (again) on its ports and waits until its outbound API serves.</summary>
    public async Task StartAgainAsync()
    {
        if (Current is not null)
        {
            throw new InvalidOperationException($"the sidecar of {Launch.AppId} is running");
        }
        List<string> arguments =
        [
            "--app-id", Launch.AppId,
            "--app-protocol", Launch.AppProtocol,
            .. Ports.Arguments(),
            "--resources-path", Launch.ResourcesDirectory,
            "--log-level", "debug",
        ];
        if (Launch.AppPort > 0)
        {
            arguments.AddRange(["--app-port", SidecarProcess.Text(Launch.AppPort)]);
        }
        Current = await SidecarProcess.StartWithArgumentsAsync(Launch, Ports, arguments);
    }

    /// <summary>Stops the sidecar as a signal would.</summary>
    public async Task StopAsync()
    {
        if (Current is { } running)
        {
            Current = null;
            await running.StopAsync();
            await running.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Current is { } running)
        {
            Current = null;
            await running.DisposeAsync();
        }
    }
}
