using System.Globalization;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Tests.Probe;
using Ovasabi.Testing;
using Ovasabi.Testing.Sidecars;
using GrpcHealth = Grpc.Health.V1.Health;

namespace Ovasabi.ServiceDefaults.Tests.Platform;

/// <summary>What one probe host is configured with: the settings `dapr run` and a deployment would give it.</summary>
public sealed record ProbeSettings(string ConnectionString, int DaprHttpPort, int DaprGrpcPort, string TopicPrefix)
{
    public int GrpcPort { get; init; } = FreePort.Next();

    public int ManagementPort { get; init; } = FreePort.Next();

    public bool MigrateOnStartup { get; init; } = true;

    /// <summary>More settings, or null values to leave a setting out.</summary>
    public IReadOnlyDictionary<string, string?> Extra { get; init; } = new Dictionary<string, string?>();

    public Dictionary<string, string?> ToConfiguration()
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["APP_PORT"] = Text(GrpcPort),
            ["MANAGEMENT_PORT"] = Text(ManagementPort),
            ["DAPR_HTTP_PORT"] = Text(DaprHttpPort),
            ["DAPR_GRPC_PORT"] = Text(DaprGrpcPort),
            ["ConnectionStrings:Database"] = ConnectionString,
            ["Service:ListenAddress"] = "127.0.0.1",
            ["Service:MigrateOnStartup"] = MigrateOnStartup ? "true" : "false",
            [ProbeApp.TopicPrefixSetting] = TopicPrefix,
        };
        foreach (var (key, value) in Extra)
        {
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }
        return settings;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The probe app running in the test process through <c>RunServiceAsync</c>, as its Program.cs would run it, with
/// clients of its gRPC port (probe API, AppCallback, gRPC health) and its management port.
/// </summary>
public sealed class ProbeHost : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly WebApplication _app;
    private readonly Task<int> _run;
    private readonly GrpcChannel _channel;

    private ProbeHost(ProbeSettings settings, WebApplication app, Task<int> run, LogCapture logs)
    {
        Settings = settings;
        _app = app;
        _run = run;
        Logs = logs;
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{settings.GrpcPort}");
        Probe = new Probe.V1.Probe.ProbeClient(_channel);
        Callback = new AppCallbackClient(_channel.CreateCallInvoker());
        Health = new GrpcHealth.HealthClient(_channel);
        Management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{settings.ManagementPort}"), Timeout = TimeSpan.FromSeconds(15) };
    }

    public ProbeSettings Settings { get; }

    /// <summary>The probe's services (its own counters; the library is observed through its public surfaces).</summary>
    public IServiceProvider Services => _app.Services;

    public LogCapture Logs { get; }

    public int GrpcPort => Settings.GrpcPort;

    public int ManagementPort => Settings.ManagementPort;

    public GrpcChannel Channel => _channel;

    public Probe.V1.Probe.ProbeClient Probe { get; }

    /// <summary>Dapr's AppCallback service on the probe's gRPC port, called as the sidecar calls it.</summary>
    public AppCallbackClient Callback { get; }

    public GrpcHealth.HealthClient Health { get; }

    /// <summary>A client of the management port (/healthz, /readyz, /metrics).</summary>
    public HttpClient Management { get; }

    /// <summary>Builds the probe and runs it until it serves; throws what start-up threw.</summary>
    public static async Task<ProbeHost> StartAsync(ProbeSettings settings, CancellationToken cancellationToken = default)
    {
        var logs = new LogCapture();
        var app = ProbeApp.Build(settings.ToConfiguration(), logs);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = app.Lifetime.ApplicationStarted.Register(started.SetResult);
        var run = app.RunServiceAsync<ProbeDbContext>([]);
        var host = new ProbeHost(settings, app, run, logs);
        try
        {
            var first = await Task.WhenAny(started.Task, run, Task.Delay(StartTimeout, cancellationToken));
            if (first == run)
            {
                await run;
                throw new InvalidOperationException($"the probe stopped while starting (exit code {run.Result}).\n{logs}");
            }
            if (first != started.Task)
            {
                throw new TimeoutException($"the probe did not start within {StartTimeout.TotalSeconds:0} s.\n{logs}");
            }
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Builds the probe and runs <c>RunServiceAsync(args)</c> to its end (the migrate command).</summary>
    public static async Task<(int ExitCode, LogCapture Logs)> RunToExitAsync(ProbeSettings settings, string[] args)
    {
        var logs = new LogCapture();
        await using var app = ProbeApp.Build(settings.ToConfiguration(), logs);
        var exitCode = await app.RunServiceAsync<ProbeDbContext>(args);
        return (exitCode, logs);
    }

    /// <summary>Waits until /readyz answers 200 (the database and the sidecar answer).</summary>
    public Task WaitReadyAsync() =>
        Eventually.StatusAsync(Management, "/readyz", System.Net.HttpStatusCode.OK, TimeSpan.FromSeconds(60), () => Logs.ToString());

    /// <summary>Stops the probe as a SIGTERM would and waits until it has stopped.</summary>
    public async Task StopAsync()
    {
        if (!_run.IsCompleted)
        {
            // RunAsync disposes the app when it ends, so only a running app is told to stop.
            _app.Lifetime.StopApplication();
        }
        try
        {
            await _run;
        }
        catch (Exception) when (_run.IsFaulted || _run.IsCanceled)
        {
            // A start-up that failed already reported its error to the caller.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Management.Dispose();
        _channel.Dispose();
        await _app.DisposeAsync();
    }
}
