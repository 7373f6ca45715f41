using System.Net;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>A temporary folder holding a dapr.yaml run file and its app folders.</summary>
internal sealed class RunFolder() : TempFolder("ovasabi-run-")
{
    public string RunFile => PathOf("dapr.yaml");

    public string AppDirectory(string name) => System.IO.Directory.CreateDirectory(PathOf(name)).FullName;

    public RunFolder Write(string yaml)
    {
        File.WriteAllText(RunFile, yaml);
        return this;
    }

    /// <summary>The text of the newest <c>&lt;appId&gt;_&lt;kind&gt;_*.log</c> under the app folder's .dapr/logs, or null.</summary>
    public string? Log(string appDirectory, string appId, string kind)
    {
        var logs = Path.Combine(Directory, appDirectory, ".dapr", "logs");
        var file = System.IO.Directory.Exists(logs)
            ? System.IO.Directory.EnumerateFiles(logs, $"{appId}_{kind}_*.log").Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        if (file is null)
        {
            return null;
        }
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>`dev-sidecar run -f dapr.yaml`: the Dapr CLI's multi-app run, every sidecar in one process.</summary>
public sealed class MultiAppRunContractTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_run_file_starts_each_app_with_its_sidecar_and_env_prints_the_table_and_SIGTERM_stops_everything()
    {
        using var run = new RunFolder();
        var suffix = Guid.NewGuid().ToString("N")[..6];
        string first = $"orders-{suffix}", second = $"billing-{suffix}";
        run.AppDirectory(first);
        run.AppDirectory(second);
        int firstHttp = FreePort.Next(), secondHttp = FreePort.Next();
        // Unusual sleep lengths identify the apps' child processes among everything else on the machine.
        var sleepSeconds = Random.Shared.Next(20_000, 90_000);
        run.Write($"""
            version: 1
            common:
              env:
                FOO: from-common
                BAR: common-only
            apps:
              - appDirPath: ./{first}
                appID: {first}
                daprHTTPPort: {firstHttp}
                command: ["sh", "-c", "echo APP_ID=$APP_ID DAPR_HTTP_PORT=$DAPR_HTTP_PORT FOO=$FOO BAR=$BAR; sleep {sleepSeconds}"]
                env:
                  FOO: from-app
              - appDirPath: ./{second}
                daprHTTPPort: {secondHttp}
                command: ["sh", "-c", "trap 'sleep 3; echo graceful-stop; exit 0' TERM; echo started; sleep {sleepSeconds + 1} & wait"]
            """);
        await using var runner = ManagedProcess.Start(RunCommand(run), logLines: 2000);
        using var http = new HttpClient();

        await runner.WaitUntilReadyAsync(async ct =>
            await IsReadyAsync(http, firstHttp, ct) && await IsReadyAsync(http, secondHttp, ct), Patience, Cancel);
        var firstLog = await EventuallyAsync(() => run.Log(first, first, "app") is { } log && log.Contains("APP_ID=", StringComparison.Ordinal) ? log : null);
        await EventuallyAsync(() => run.Log(second, second, "app") is { } log && log.Contains("started", StringComparison.Ordinal) ? log : null);
        var sleepers = SleepProcesses(sleepSeconds).Concat(SleepProcesses(sleepSeconds + 1)).ToList();
        try
        {
            Assert.Contains($"APP_ID={first} DAPR_HTTP_PORT={firstHttp} FOO=from-app BAR=common-only", firstLog, StringComparison.Ordinal);
            Assert.Equal(2, sleepers.Count);
            var table = runner.Output.Split('\n');
            Assert.Contains(table, l => l.StartsWith("APP ID", StringComparison.Ordinal) && l.Contains("HTTP", StringComparison.Ordinal));
            Assert.Contains(table, l => l.StartsWith(first + " ", StringComparison.Ordinal) && l.Contains($" {firstHttp} ", StringComparison.Ordinal));
            // No appID: the app ID is the base name of appDirPath.
            Assert.Contains(table, l => l.StartsWith(second + " ", StringComparison.Ordinal) && l.Contains($" {secondHttp} ", StringComparison.Ordinal));

            await runner.StopAsync(TimeSpan.FromSeconds(45));

            Assert.True(runner.HasExited, "the runner did not stop within 45 s of SIGTERM");
            Assert.True(runner.ExitCode == 0, $"the runner exited with {runner.ExitCode}. Output:\n{runner.Output}");
            Assert.DoesNotContain(sleepers, IsAlive);
            Assert.Contains("graceful-stop", run.Log(second, second, "app"), StringComparison.Ordinal);
            Assert.Contains("dapr dev sidecar for " + first, run.Log(first, first, "daprd"), StringComparison.Ordinal);
        }
        finally
        {
            // A failed stop must not leave the sleeps behind for hours.
            KillSurvivors(sleepers);
        }
    }

    [Fact]
    public async Task A_run_file_whose_appDirPath_does_not_exist_is_refused_naming_the_field()
    {
        using var run = new RunFolder();
        run.Write("""
            version: 1
            apps:
              - appDirPath: ./no-such-app
                command: ["sleep", "60"]
            """);

        var output = await RefusedAsync(run);

        Assert.Contains(run.RunFile, output, StringComparison.Ordinal);
        Assert.Contains("apps[0].appDirPath", output, StringComparison.Ordinal);
        Assert.Contains("no-such-app", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_app_api_tokens_each_app_and_its_sidecar_share_a_token_of_their_own_for_this_run()
    {
        using var run = new RunFolder();
        await using var first = await CallbackApp.StartAsync($"first-{Guid.NewGuid():N}"[..14]);
        await using var second = await CallbackApp.StartAsync($"second-{Guid.NewGuid():N}"[..15]);
        int firstHttp = FreePort.Next(), secondHttp = FreePort.Next();
        run.AppDirectory(first.AppId);
        run.AppDirectory(second.AppId);
        // The app processes only print the token they got; the test apps above serve the app ports.
        run.Write($"""
            version: 1
            common:
              appProtocol: grpc
              command: ["sh", "-c", "echo token=$APP_API_TOKEN; sleep 600"]
            apps:
              - appDirPath: ./{first.AppId}
                appPort: {first.Port}
                daprHTTPPort: {firstHttp}
              - appDirPath: ./{second.AppId}
                appPort: {second.Port}
                daprHTTPPort: {secondHttp}
            """);
        await using var runner = ManagedProcess.Start(SidecarProcess.Command(new SidecarLaunch("run-file", run.Directory), ["run", "-f", run.RunFile, "--app-api-tokens"]));
        using var http = new HttpClient();
        await runner.WaitUntilReadyAsync(async ct => await IsReadyAsync(http, firstHttp, ct) && await IsReadyAsync(http, secondHttp, ct), Patience, Cancel);

        var tokens = new List<string>();
        foreach (var (app, port) in new[] { (first, firstHttp), (second, secondHttp) })
        {
            var log = await EventuallyAsync(() => run.Log(app.AppId, app.AppId, "app") is { } text && text.Contains("token=", StringComparison.Ordinal) ? text : null);
            var token = log.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("token=", StringComparison.Ordinal))["token=".Length..];
            using var response = await http.PostAsync($"http://127.0.0.1:{port}/v1.0/invoke/{app.AppId}/method/hello", new StringContent("{}"), Cancel);
            var received = Assert.Single(await app.WaitForAsync(r => r.Kind == "invoke"));
            Assert.Matches("^[0-9A-F]{64}$", token);
            Assert.Equal(token, received.Headers["dapr-api-token"]);
            tokens.Add(token);
        }

        Assert.NotEqual(tokens[0], tokens[1]);
    }

    [Fact]
    public async Task With_plain_app_logs_the_console_shows_an_apps_json_log_lines_as_plain_lines_and_the_log_file_keeps_the_json()
    {
        using var run = new RunFolder();
        var app = $"logs-{Guid.NewGuid():N}"[..13];
        run.AppDirectory(app);
        var httpPort = FreePort.Next();
        const string json = """{"EventId":14,"LogLevel":"Information","Category":"Microsoft.Hosting.Lifetime","Message":"Now listening on: http://127.0.0.1:5101","State":{}}""";
        const string failure = """{"EventId":1,"LogLevel":"Error","Category":"Ovasabi.User.Grpc.UserGrpcService","Message":"boom","Exception":"System.InvalidOperationException: broken\n   at Somewhere()"}""";
        File.WriteAllText(Path.Combine(run.Directory, app, "lines.txt"), $"{json}\n{failure}\nnot json at all\n");
        run.Write($"""
            version: 1
            apps:
              - appDirPath: ./{app}
                daprHTTPPort: {httpPort}
                command: ["sh", "-c", "cat lines.txt; sleep 600"]
            """);
        await using var runner = ManagedProcess.Start(SidecarProcess.Command(new SidecarLaunch("run-file", run.Directory), ["run", "-f", run.RunFile, "--plain-app-logs"]), logLines: 2000);

        var log = await EventuallyAsync(() => run.Log(app, app, "app") is { } text && text.Contains("not json at all", StringComparison.Ordinal) ? text : null);
        await runner.WaitUntilReadyAsync(_ => Task.FromResult(runner.Output.Contains("not json at all", StringComparison.Ordinal)), Patience, Cancel);

        Assert.Contains($"== APP - {app} == info Lifetime: Now listening on: http://127.0.0.1:5101", runner.Output, StringComparison.Ordinal);
        Assert.Contains($"== APP - {app} == fail UserGrpcService: boom — System.InvalidOperationException: broken", runner.Output, StringComparison.Ordinal);
        Assert.Contains($"== APP - {app} == not json at all", runner.Output, StringComparison.Ordinal);
        Assert.Contains(json, log, StringComparison.Ordinal);
        Assert.DoesNotContain("\"LogLevel\"", runner.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_file_app_without_a_command_gets_its_sidecar_only_as_with_the_Dapr_CLI()
    {
        using var run = new RunFolder();
        run.AppDirectory("ide-app");
        var httpPort = FreePort.Next();
        run.Write($"""
            version: 1
            apps:
              - appDirPath: ./ide-app
                daprHTTPPort: {httpPort}
            """);
        await using var runner = ManagedProcess.Start(RunCommand(run));
        using var http = new HttpClient();

        await runner.WaitUntilReadyAsync(ct => IsReadyAsync(http, httpPort, ct), TimeSpan.FromSeconds(60), Cancel);

        Assert.Contains("no application command found for app ide-app", runner.Output, StringComparison.Ordinal);
        await runner.StopAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, runner.ExitCode);
    }

    [Fact]
    public async Task A_run_file_without_version_1_is_refused_naming_the_field()
    {
        using var run = new RunFolder();
        run.AppDirectory("one");
        run.Write("""
            apps:
              - appDirPath: ./one
                command: ["sleep", "60"]
            """);

        var output = await RefusedAsync(run);

        Assert.Contains(run.RunFile, output, StringComparison.Ordinal);
        Assert.Contains("version", output, StringComparison.Ordinal);
    }

    private static ProcessCommand RunCommand(RunFolder run) =>
        SidecarProcess.Command(new SidecarLaunch("run-file", run.Directory), ["run", "-f", run.RunFile]);

    private static async Task<string> RefusedAsync(RunFolder run)
    {
        await using var runner = ManagedProcess.Start(RunCommand(run));
        await runner.WaitForExitAsync(TimeSpan.FromSeconds(60), Cancel);
        Assert.True(runner.ExitCode != 0, $"the run file was accepted. Output:\n{runner.Output}");
        return runner.Output;
    }

    private static async Task<bool> IsReadyAsync(HttpClient http, int port, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/v1.0/healthz", cancellationToken);
            return response.StatusCode == HttpStatusCode.NoContent;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<string> EventuallyAsync(Func<string?> probe)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }
            Assert.True(DateTime.UtcNow < deadline, $"not there within {Patience.TotalSeconds} s");
            await Task.Delay(100, Cancel);
        }
    }

    /// <summary>Processes running exactly <c>sleep &lt;seconds&gt;</c>.</summary>
    private static List<int> SleepProcesses(int seconds)
    {
        var wanted = $"sleep\0{seconds}\0";
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ReadOrNull(Path.Combine(directory, "cmdline")) == wanted)
            {
                found.Add(pid);
            }
        }
        return found;
    }

    private static void KillSurvivors(IEnumerable<int> pids)
    {
        foreach (var pid in pids.Where(IsAlive))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
                // gone meanwhile
            }
            catch (InvalidOperationException)
            {
                // gone meanwhile
            }
        }
    }

    /// <summary>Running, not a zombie left for a reaper.</summary>
    private static bool IsAlive(int pid) =>
        ReadOrNull($"/proc/{pid}/stat") is { } stat && stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
