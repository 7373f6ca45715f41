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
var run = new Command("run", "Start every app of a dapr.yaml with its own sidecar, like `dapr run -f`") { runFile };
run.SetAction(async (parse, cancellationToken) => await Startup.RunUntilCancelledAsync(
    () => new MultiAppRunner(RunFile.Load(parse.GetRequiredValue(runFile)), Console.Out).RunAsync(cancellationToken), cancellationToken));
root.Subcommands.Add(run);

return await root.Parse(DaprdOptions.NormalizeGoFlags(args)).InvokeAsync();

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
