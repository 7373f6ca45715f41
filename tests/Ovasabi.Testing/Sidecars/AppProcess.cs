using System.Globalization;

namespace Ovasabi.Testing.Sidecars;

/// <summary>
/// One of the platform's apps (<c>apps/&lt;app-id&gt;</c>, built) started as `dapr run` starts it: the environment
/// names its gRPC and management ports and its sidecar's ports, plus whatever the test adds (connection strings, ...).
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    // Generous: in a full test run several assemblies start platforms at once on two cores.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    private readonly ManagedProcess _process;

    private AppProcess(ManagedProcess process, string appId, int grpcPort, int managementPort)
    {
        _process = process;
        AppId = appId;
        GrpcPort = grpcPort;
        ManagementPort = managementPort;
        Management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string AppId { get; }

    /// <summary>The CPU time (user + system) the process has used so far.</summary>
    public TimeSpan CpuTime => _process.CpuTime;

    public int GrpcPort { get; }

    public int ManagementPort { get; }

    /// <summary>A client of the management port (/healthz, /readyz, /metrics).</summary>
    public HttpClient Management { get; }

    public string Output => _process.Output;

    /// <summary>The most memory the app's process has held so far (VmHWM, its peak resident set).</summary>
    public long PeakResidentBytes
    {
        get
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The built app of <c>apps/&lt;appId&gt;</c>, in the same configuration as the running tests.</summary>
    public static string AssemblyOf(string appId) =>
        SidecarProcess.BuiltAssembly(Path.Combine("apps", appId), appId + ".dll");

    /// <summary>Starts the app next to <paramref name="sidecar"/> (already serving) and waits until its /readyz answers 200.</summary>
    public static async Task<AppProcess> StartAsync(string appId, int grpcPort, SidecarProcess sidecar,
        IReadOnlyDictionary<string, string?> environment, CancellationToken cancellationToken = default)
    {
        var app = Launch(appId, grpcPort, sidecar, environment);
        try
        {
            await app._process.WaitUntilReadyAsync(app.IsReadyAsync, StartTimeout, cancellationToken);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the app as <see cref="StartAsync"/> does but without waiting for it: for an app expected to refuse to start.</summary>
    public static AppProcess Launch(string appId, int grpcPort, SidecarProcess sidecar, IReadOnlyDictionary<string, string?> environment)
    {
        var managementPort = FreePort.Next();
        var variables = new Dictionary<string, string?>(environment)
        {
            ["APP_ID"] = appId,
            ["APP_PORT"] = Text(grpcPort),
            ["MANAGEMENT_PORT"] = Text(managementPort),
            ["DAPR_HTTP_PORT"] = Text(sidecar.HttpPort),
            ["DAPR_GRPC_PORT"] = Text(sidecar.GrpcPort),
            ["Service__ListenAddress"] = "127.0.0.1",
            ["DOTNET_gcServer"] = "0",
        };
        var process = ManagedProcess.Start(new ProcessCommand("dotnet", [AssemblyOf(appId)])
        {
            Name = appId,
            WorkingDirectory = Path.GetDirectoryName(AssemblyOf(appId)),
            Environment = variables,
        }, logLines: 2000);
        return new AppProcess(process, appId, grpcPort, managementPort);
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Management.GetAsync("/readyz", cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Waits for the app to exit on its own (its output is complete then) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await _process.WaitForExitAsync(timeout, cancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Stops the app as a signal would, letting it finish what it is doing.</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(15));

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        Management.Dispose();
        await _process.DisposeAsync();
    }
}
