using System.CommandLine;
using Ovasabi.DevSidecar.Cli;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Resources;

var daprd = new DaprdOptions();
var root = new RootCommand("A Dapr-compatible dev sidecar: daprd's flags and API over real Redis, PostgreSQL and S3 components.");
foreach (var option in daprd.All)
{
    root.Options.Add(option);
}
root.SetAction(async (parse, cancellationToken) =>
{
    SidecarOptions options;
    try
    {
        options = daprd.Bind(parse);
    }
    catch (Exception e) when (e is FormatException or ArgumentException)
    {
        await Console.Error.WriteLineAsync($"invalid flag: {e.Message}");
        return 1;
    }
    foreach (var ignored in daprd.Ignored.Where(o => parse.GetResult(o) is not null))
    {
        await Console.Error.WriteLineAsync($"note: {ignored.Name} is accepted for daprd compatibility and ignored by the dev sidecar");
    }
    using var logging = SidecarLogging.Create(options.AppId, options.LogLevel, options.LogAsJson);
    return await Startup.RunUntilCancelledAsync(async () =>
    {
        await using var host = await SidecarHost.StartAsync(options, logging.Configure, cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }, cancellationToken);
});

var runFile = new Option<string>("--run-file", "-f") { Description = "A Dapr multi-app run file (dapr.yaml), or the folder holding it", Required = true };
var appApiTokens = new Option<bool>("--app-api-tokens")
{
    Description = "Give each app and its sidecar an APP_API_TOKEN of their own, generated for this run (not in the Dapr CLI, whose daprd processes share one exported token)",
};
var plainAppLogs = new Option<bool>("--plain-app-logs")
{
    Description = "Show the apps' JSON log lines (.NET's JSON console format) on the console as one plain line each; log files keep them as written (not in the Dapr CLI)",
};
var run = new Command("run", "Start every app of a dapr.yaml with its own sidecar, like `dapr run -f`") { runFile, appApiTokens, plainAppLogs };
run.SetAction(async (parse, cancellationToken) => await Startup.RunUntilCancelledAsync(
    () => new MultiAppRunner(RunFile.Load(parse.GetRequiredValue(runFile)), Console.Out, parse.GetValue(appApiTokens), parse.GetValue(plainAppLogs)).RunAsync(cancellationToken),
    cancellationToken));
root.Subcommands.Add(run);

// SIGTERM and SIGINT stop the sidecars gracefully (leave name resolution, stop consuming) and the process exits as
// soon as that is done; System.CommandLine's own handling would hold the exit for its termination timeout.
using var shutdown = new CancellationTokenSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
return await root.Parse(DaprdOptions.NormalizeGoFlags(args)).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, shutdown.Token);

void Stop(System.Runtime.InteropServices.PosixSignalContext context)
{
    context.Cancel = true;
    shutdown.Cancel();
}

/// <summary>Turns refusals of the configuration into one clear line and exit code 1, as daprd's fatal start-up errors.</summary>
internal static class Startup
{
    public static async Task<int> RunUntilCancelledAsync(Func<Task> run, CancellationToken cancellationToken)
    {
        try
        {
            await run();
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e) when (e is ResourceException or ComponentConfigurationException or InvalidOperationException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"fatal: {e.Message}");
            return 1;
        }
    }
}
