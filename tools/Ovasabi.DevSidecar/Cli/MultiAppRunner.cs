using System.Diagnostics;
using System.Globalization;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Cli;

/// <summary>
/// <c>dev-sidecar run -f dapr.yaml</c>: what <c>dapr run -f</c> does, with every sidecar hosted in this process.
/// Logs go to <c>&lt;appDir&gt;/.dapr/logs/&lt;appId&gt;_{app,daprd}_&lt;timestamp&gt;.log</c> as the Dapr CLI writes them.
/// </summary>
/// <param name="appApiTokens">
/// Give each app with a command, and its sidecar, an APP_API_TOKEN of their own, new for this run (an option of ours:
/// the Dapr CLI passes its own environment to every daprd, so with it all apps share one exported token).
/// </param>
/// <param name="plainAppLogs">Show the apps' JSON log lines on the console as plain lines (<see cref="PlainLogLine"/>); files keep them as written.</param>
public sealed class MultiAppRunner(IReadOnlyList<RunApp> apps, TextWriter console, bool appApiTokens = false, bool plainAppLogs = false)
{
    private readonly List<(RunApp App, SidecarHost Sidecar, SidecarLogging Logging)> _sidecars = [];
    private readonly List<(RunApp App, Process Process, StreamWriter? Log)> _processes = [];
    private readonly Lock _consoleLock = new();

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var stamp = DateTime.Now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        try
        {
            foreach (var app in apps)
            {
                var logs = Directory.CreateDirectory(Path.Combine(app.AppDirectory, ".dapr", "logs")).FullName;
                var options = Options(app);
                if (appApiTokens && app.Command.Count > 0)
                {
                    options = options with { AppApiToken = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) };
                }
                var daprdDestination = app.Merged.DaprdLogDestination ?? "file";
                var logging = SidecarLogging.Create(app.AppId, options.LogLevel, options.LogAsJson,
                    daprdDestination == "console" ? null : Path.Combine(logs, $"{app.AppId}_daprd_{stamp}.log"));
                var sidecar = await SidecarHost.StartAsync(options, logging.Configure, cancellationToken);
                _sidecars.Add((app, sidecar, logging));
                if (app.Command.Count == 0)
                {
                    Write($"== dev-sidecar == no application command found for app {app.AppId}; running its sidecar only");
                    continue;
                }
                StartApp(app, sidecar.Options, Path.Combine(logs, $"{app.AppId}_app_{stamp}.log"));
            }
            PrintTable();
            await Task.WhenAll(_sidecars.Select(s => s.Sidecar.Services.GetRequiredService<SidecarReadiness>().WhenReady.WaitAsync(cancellationToken)));
            Write("== dev-sidecar == all apps are ready; Ctrl-C stops everything");
            await PrintAppHealthAsync(cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            await StopAsync();
        }
    }

    private static SidecarOptions Options(RunApp app)
    {
        var m = app.Merged;
        return new SidecarOptions
        {
            AppId = app.AppId,
            AppPort = m.AppPort ?? 0,
            AppProtocol = (m.AppProtocol ?? "http").ToLowerInvariant(),
            AppChannelAddress = m.AppChannelAddress ?? "127.0.0.1",
            // The Dapr CLI gives unset ports random free ones.
            HttpPort = m.DaprHTTPPort ?? 0,
            GrpcPort = m.DaprGRPCPort ?? 0,
            InternalGrpcPort = m.DaprInternalGRPCPort ?? 0,
            MetricsPort = m.MetricsPort ?? 0,
            ResourcesPaths = app.ResourcesPaths,
            ConfigPath = app.ConfigPath,
            LogLevel = m.LogLevel ?? "info",
            EnableAppHealthCheck = m.EnableAppHealthCheck ?? false,
            AppHealthCheckPath = m.AppHealthCheckPath ?? "/healthz",
            AppHealthProbeInterval = TimeSpan.FromSeconds(m.AppHealthProbeInterval ?? 5),
            AppHealthProbeTimeout = TimeSpan.FromMilliseconds(m.AppHealthProbeTimeout ?? 500),
            AppHealthThreshold = m.AppHealthThreshold ?? 3,
            AppMaxConcurrency = m.AppMaxConcurrency ?? -1,
            MaxBodySize = m.MaxBodySize is null ? 4 * 1024 * 1024 : Sizes.Parse(m.MaxBodySize),
            WorkingDirectory = app.AppDirectory,
        }.WithEnvironment(Environment.GetEnvironmentVariable);
    }

    private void StartApp(RunApp app, SidecarOptions sidecar, string logFile)
    {
        var start = new ProcessStartInfo(app.Command[0])
        {
            WorkingDirectory = app.AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in app.Command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        // The environment `dapr run` gives an app, then the run file's env entries.
        start.Environment["APP_ID"] = app.AppId;
        start.Environment["APP_CHANNEL_ADDRESS"] = sidecar.AppChannelAddress;
        start.Environment["APP_PROTOCOL"] = sidecar.AppProtocol;
        start.Environment["DAPR_HTTP_PORT"] = sidecar.HttpPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["DAPR_GRPC_PORT"] = sidecar.GrpcPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["DAPR_METRICS_PORT"] = sidecar.MetricsPort.ToString(CultureInfo.InvariantCulture);
        if (sidecar.AppPort > 0)
        {
            start.Environment["APP_PORT"] = sidecar.AppPort.ToString(CultureInfo.InvariantCulture);
        }
        foreach (var (key, value) in app.Environment)
        {
            start.Environment[key] = value;
        }
        if (appApiTokens)
        {
            start.Environment["APP_API_TOKEN"] = sidecar.AppApiToken;
        }
        var destination = app.Merged.AppLogDestination ?? "fileAndConsole";
        var log = destination == "console" ? null : new StreamWriter(logFile, append: true) { AutoFlush = true };
        var toConsole = destination != "file";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {app.Command[0]} for {app.AppId}");
        process.OutputDataReceived += (_, e) => AppLine(app.AppId, e.Data, log, toConsole);
        process.ErrorDataReceived += (_, e) => AppLine(app.AppId, e.Data, log, toConsole);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Write($"== APP - {app.AppId} == exited with code {process.ExitCode}");
        _processes.Add((app, process, log));
    }

    private void AppLine(string appId, string? line, StreamWriter? log, bool toConsole)
    {
        if (line is null)
        {
            return;
        }
        lock (_consoleLock)
        {
            log?.WriteLine(line);
            if (toConsole)
            {
                console.WriteLine($"== APP - {appId} == {(plainAppLogs ? PlainLogLine.Render(line) : line)}");
            }
        }
    }

    private void PrintTable()
    {
        Write($"{"APP ID",-16} {"APP PORT",-9} {"PROTOCOL",-9} {"HTTP",-6} {"GRPC",-6} {"METRICS",-8} LOGS");
        foreach (var (app, sidecar, _) in _sidecars)
        {
            var o = sidecar.Options;
            Write($"{app.AppId,-16} {o.AppPort,-9} {o.AppProtocol,-9} {o.HttpPort,-6} {o.GrpcPort,-6} {o.MetricsPort,-8} {Path.Combine(app.AppDirectory, ".dapr", "logs")}");
        }
    }

    /// <summary>
    /// Shows each app's own readiness when its env names a <c>MANAGEMENT_PORT</c> (the ovasabi apps' /readyz), waiting
    /// up to a minute for it to turn ready (migrations may still run).
    /// </summary>
    private async Task PrintAppHealthAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        foreach (var (app, _, _) in _sidecars)
        {
            if (!app.Environment.TryGetValue("MANAGEMENT_PORT", out var port))
            {
                continue;
            }
            var url = $"http://127.0.0.1:{port}/readyz";
            var status = "unreachable";
            for (var deadline = DateTime.UtcNow.AddMinutes(1); DateTime.UtcNow < deadline; await Task.Delay(500, cancellationToken))
            {
                try
                {
                    using var response = await http.GetAsync(url, cancellationToken);
                    status = response.IsSuccessStatusCode ? "ready" : $"not ready ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync(cancellationToken)}";
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException e)
                {
                    status = $"unreachable: {e.Message}";
                }
            }
            Write($"== dev-sidecar == {app.AppId,-16} {url,-36} {status}");
        }
    }

    private void Write(string line)
    {
        lock (_consoleLock)
        {
            console.WriteLine(line);
        }
    }

    /// <summary>
    /// Stops the apps as the Dapr CLI does: SIGTERM to the app and everything it started (the CLI signals the app's
    /// process group, so `sh -c`, `dotnet run` and their children all stop), SIGKILL to what is left after 10 s;
    /// then their sidecars.
    /// </summary>
    private async Task StopAsync()
    {
        var trees = _processes.Select(p => (p.App, p.Process, p.Log, Tree: Signals.TerminateTree(p.Process))).ToList();
        foreach (var (app, process, log, tree) in trees)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(grace.Token);
                await Signals.WaitGoneAsync(tree, grace.Token);
            }
            catch (OperationCanceledException)
            {
                Write($"== APP - {app.AppId} == did not stop in 10 s; killing it");
                Signals.Kill(process, tree);
            }
            process.Dispose();
            if (log is not null)
            {
                await log.DisposeAsync();
            }
        }
        foreach (var (_, sidecar, logging) in Enumerable.Reverse(_sidecars))
        {
            await sidecar.DisposeAsync();
            logging.Dispose();
        }
    }
}

/// <summary>Polite termination (SIGTERM) of an app and its descendants so they run their shutdown hooks.</summary>
internal static class Signals
{
    private const int SigTerm = 15, SigKill = 9;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>Sends SIGTERM to the process and its descendants; returns the descendants (empty where /proc is missing).</summary>
    public static IReadOnlyList<int> TerminateTree(Process process)
    {
        if (process.HasExited)
        {
            return [];
        }
        if (OperatingSystem.IsWindows())
        {
            process.Kill(entireProcessTree: true);
            return [];
        }
        // Listed before signalling: once the app exits, its children are re-parented and can no longer be found.
        var descendants = Descendants(process.Id);
        if (kill(process.Id, SigTerm) != 0)
        {
            process.Kill(entireProcessTree: true);
        }
        foreach (var pid in descendants)
        {
            kill(pid, SigTerm);
        }
        return descendants;
    }

    /// <summary>Waits until none of <paramref name="pids"/> is alive (zombies count as gone).</summary>
    public static async Task WaitGoneAsync(IReadOnlyList<int> pids, CancellationToken cancellationToken)
    {
        while (pids.Any(IsAlive))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    public static void Kill(Process process, IReadOnlyList<int> descendants)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
        foreach (var pid in descendants.Where(IsAlive))
        {
            kill(pid, SigKill);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            return State(File.ReadAllText($"/proc/{pid}/stat")) is not ('Z' or 'X' or null);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        if (!Directory.Exists("/proc"))
        {
            return [];
        }
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                if (ParentOf(File.ReadAllText(Path.Combine(directory, "stat"))) is { } parent)
                {
                    if (!children.TryGetValue(parent, out var list))
                    {
                        children[parent] = list = [];
                    }
                    list.Add(pid);
                }
            }
            catch (IOException)
            {
                // the process ended while we looked
            }
            catch (UnauthorizedAccessException)
            {
                // not ours
            }
        }
        var result = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                result.Add(child);
                queue.Enqueue(child);
            }
        }
        return result;
    }

    // /proc/<pid>/stat is "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so parse after the last ')'.
    private static string[] AfterCommand(string stat) =>
        stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static char? State(string stat) => AfterCommand(stat) is { Length: > 0 } fields ? fields[0][0] : null;

    private static int? ParentOf(string stat) =>
        AfterCommand(stat) is { Length: > 1 } fields && int.TryParse(fields[1], out var parent) ? parent : null;
}
