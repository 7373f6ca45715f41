using System.Globalization;
using Dapr.Client;
using Ovasabi.Testing;

namespace Ovasabi.Testing.Sidecars;

/// <summary>How to start one dev sidecar process: daprd's flags and environment.</summary>
public sealed record SidecarLaunch(string AppId, string ResourcesDirectory)
{
    public int AppPort { get; init; }

    public string AppProtocol { get; init; } = "grpc";

    public string? ConfigFile { get; init; }

    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>
    /// The name-resolution database the sidecar registers in and resolves from: sidecars find only those sharing it.
    /// Defaults to one per test run; a platform that runs the real app IDs keeps one of its own; empty leaves the
    /// sidecar to its own default.
    /// </summary>
    public string NameResolutionDatabase { get; init; } = SidecarProcess.NameResolutionDatabase;

    /// <summary>The Jobs API's store (daprd's scheduler): one per test run unless a test needs its own.</summary>
    public string SchedulerDatabase { get; init; } = SidecarProcess.SchedulerDatabase;
}

/// <summary>The ports a sidecar is told to serve on; all picked by the test process so sidecars started side by side cannot collide.</summary>
public sealed record SidecarPorts(int Http, int Grpc, int Internal, int Metrics)
{
    public static SidecarPorts Free() => new(FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());

    /// <summary>daprd's flags for these ports.</summary>
    public string[] Arguments() =>
    [
        "--dapr-http-port", SidecarProcess.Text(Http),
        "--dapr-grpc-port", SidecarProcess.Text(Grpc),
        "--dapr-internal-grpc-port", SidecarProcess.Text(Internal),
        "--metrics-port", SidecarProcess.Text(Metrics),
    ];
}

/// <summary>
/// A real dev sidecar process (the built <c>dev-sidecar.dll</c>, started as `dapr run` would start daprd) on free
/// loopback ports, sharing one name-resolution database per test run so sidecars find each other.
/// </summary>
public sealed class SidecarProcess : IAsyncDisposable
{
    // Generous: in a full test run several assemblies start platforms at once on two cores.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    /// <summary>One name-resolution database per test run, so parallel runs and `make run` do not see each other.</summary>
    public static readonly string NameResolutionDatabase = Path.Combine(Path.GetTempPath(), "ovasabi-dapr-tests", $"nr-{Environment.ProcessId}.db");

    /// <summary>One job store per test run, like the name-resolution database.</summary>
    public static readonly string SchedulerDatabase = Path.Combine(Path.GetTempPath(), "ovasabi-dapr-tests", $"jobs-{Environment.ProcessId}.db");

    private readonly ManagedProcess _process;

    private SidecarProcess(ManagedProcess process, SidecarLaunch launch, SidecarPorts ports)
    {
        _process = process;
        Launch = launch;
        Ports = ports;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports.Http}") };
    }

    public SidecarLaunch Launch { get; }

    /// <summary>The ports it serves on; a replacement started with the same ones is found by its app where this one was.</summary>
    public SidecarPorts Ports { get; }

    public string AppId => Launch.AppId;

    /// <summary>The CPU time (user + system) the process has used so far.</summary>
    public TimeSpan CpuTime => _process.CpuTime;

    public int HttpPort => Ports.Http;

    public int GrpcPort => Ports.Grpc;

    public int MetricsPort => Ports.Metrics;

    /// <summary>An HTTP client on the sidecar's HTTP port.</summary>
    public HttpClient Http { get; }

    public string Output => _process.Output;

    public bool HasExited => _process.HasExited;

    public static string SidecarAssembly => BuiltAssembly(Path.Combine("tools", "Ovasabi.DevSidecar"), "dev-sidecar.dll");

    /// <summary>A project's built assembly, in the same configuration as this test assembly (bin/&lt;Configuration&gt;/net10.0).</summary>
    public static string BuiltAssembly(string projectDirectory, string assembly)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var root = RepositoryRoot.Find() ?? throw new InvalidOperationException("repository root not found");
        var path = Path.Combine(root, projectDirectory, "bin", configuration, "net10.0", assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} not found: build the solution first (make build)");
    }

    public static ProcessCommand Command(SidecarLaunch launch, IEnumerable<string> arguments) =>
        new("dotnet", [SidecarAssembly, .. arguments])
        {
            Name = $"sidecar-{launch.AppId}",
            WorkingDirectory = launch.ResourcesDirectory,
            Environment = new Dictionary<string, string?>(launch.Environment)
            {
                ["DAPR_DEV_NAME_RESOLUTION_DB"] = launch.NameResolutionDatabase,
                ["DAPR_DEV_SCHEDULER_DB"] = launch.SchedulerDatabase,
                ["DOTNET_gcServer"] = "0",
            },
        };

    /// <summary>Starts the sidecar and waits until its outbound API serves (daprd's /v1.0/healthz/outbound).</summary>
    public static Task<SidecarProcess> StartAsync(SidecarLaunch launch, CancellationToken cancellationToken = default) =>
        StartAsync(launch, SidecarPorts.Free(), cancellationToken);

    /// <summary>
    /// Starts the sidecar on <paramref name="ports"/> (e.g. those of a stopped sidecar whose app still runs: the app
    /// keeps talking to the ports it was started with) and waits until its outbound API serves.
    /// </summary>
    public static async Task<SidecarProcess> StartAsync(SidecarLaunch launch, SidecarPorts ports, CancellationToken cancellationToken = default)
    {
        List<string> arguments =
        [
            "--app-id", launch.AppId,
            "--app-protocol", launch.AppProtocol,
            .. ports.Arguments(),
            "--resources-path", launch.ResourcesDirectory,
            "--log-level", "info",
        ];
        if (launch.AppPort > 0)
        {
            arguments.AddRange(["--app-port", Text(launch.AppPort)]);
        }
        if (launch.ConfigFile is not null)
        {
            arguments.AddRange(["--config", launch.ConfigFile]);
        }
        arguments.AddRange(launch.ExtraArguments);
        return await StartWithArgumentsAsync(launch, ports, arguments, cancellationToken);
    }

    /// <summary>
    /// Starts the sidecar with exactly <paramref name="arguments"/> (command-line tests), which must ask for
    /// <paramref name="ports"/>, and waits until its outbound API serves.
    /// </summary>
    public static async Task<SidecarProcess> StartWithArgumentsAsync(SidecarLaunch launch, SidecarPorts ports, IEnumerable<string> arguments,
        CancellationToken cancellationToken = default)
    {
        if (launch.NameResolutionDatabase.Length > 0)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(launch.NameResolutionDatabase)!);
        }
        var process = ManagedProcess.Start(Command(launch, arguments), logLines: 2000);
        var sidecar = new SidecarProcess(process, launch, ports);
        try
        {
            await process.WaitUntilReadyAsync(ct => sidecar.IsHealthyAsync("/v1.0/healthz/outbound", ct), StartTimeout, cancellationToken);
            return sidecar;
        }
        catch
        {
            await sidecar.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts several sidecars side by side and waits until each is fully ready (app port answered); if one fails,
    /// the others are stopped before the error surfaces.
    /// </summary>
    public static async Task<SidecarProcess[]> StartReadyAsync(params SidecarLaunch[] launches)
    {
        var starting = launches.Select(async launch =>
        {
            var sidecar = await StartAsync(launch);
            try
            {
                await sidecar.WaitReadyAsync();
                return sidecar;
            }
            catch
            {
                await sidecar.DisposeAsync();
                throw;
            }
        }).ToArray();
        try
        {
            return await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }
            throw;
        }
    }

    /// <summary>Runs the sidecar with <paramref name="arguments"/> and waits for it to exit (for start-up refusals).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(SidecarLaunch launch, IEnumerable<string> arguments, TimeSpan timeout)
    {
        await using var process = ManagedProcess.Start(Command(launch, arguments));
        await process.WaitForExitAsync(timeout);
        return (process.ExitCode, process.Output);
    }

    /// <summary>Waits for daprd's full readiness: the app port answered and subscriptions started.</summary>
    public Task WaitReadyAsync(CancellationToken cancellationToken = default) =>
        _process.WaitUntilReadyAsync(ct => IsHealthyAsync("/v1.0/healthz", ct), StartTimeout, cancellationToken);

    public DaprClient CreateClient(string? apiToken = null)
    {
        var builder = new DaprClientBuilder()
            .UseHttpEndpoint($"http://127.0.0.1:{HttpPort}")
            .UseGrpcEndpoint($"http://127.0.0.1:{GrpcPort}");
        if (apiToken is not null)
        {
            builder.UseDaprApiToken(apiToken);
        }
        return builder.Build();
    }

    /// <summary>Invokes <paramref name="method"/> of <paramref name="appId"/> through this sidecar's HTTP API, without a body.</summary>
    public async Task<HttpResponseMessage> InvokeAsync(string verb, string appId, string method, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(new HttpMethod(verb), $"/v1.0/invoke/{appId}/method/{method}");
        return await Http.SendAsync(request, cancellationToken);
    }

    /// <summary>The generated gRPC client of dapr.proto.runtime.v1.Dapr, for requests the SDK refuses to send.</summary>
    public global::Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient CreateGrpcClient() =>
        new(global::Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{GrpcPort}"));

    private async Task<bool> IsHealthyAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.GetAsync(path, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Stops the sidecar as a signal would (it leaves name resolution and stops consuming on the way out).</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(10));

    /// <summary>Kills the process: fast, and its name-resolution entry goes stale within seconds (tests use unique app IDs).</summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
