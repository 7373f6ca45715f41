using System.Runtime.InteropServices;
using Ovasabi.Bench;
using Ovasabi.Bench.Notification;

var command = new BenchCommand();
command.Root.SetAction(async (parse, cancellationToken) =>
{
    BenchOptions options;
    try
    {
        options = command.Bind(parse);
    }
    catch (ArgumentException e)
    {
        await Console.Error.WriteLineAsync($"invalid option: {e.Message}");
        return 2;
    }
    return await Benchmark.RunAsync(options, cancellationToken);
});
command.Notification.SetAction(async (parse, cancellationToken) =>
{
    NotificationBenchOptions options;
    try
    {
        options = command.BindNotification(parse);
    }
    catch (ArgumentException e)
    {
        await Console.Error.WriteLineAsync($"invalid option: {e.Message}");
        return 2;
    }
    return await NotificationBenchmark.RunAsync(options, cancellationToken);
});

// Ctrl-C and SIGTERM cancel the run; the platform is then disposed (every server, sidecar and app stopped) before the
// process exits. System.CommandLine's own handling would let the process exit before that.
using var shutdown = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
return await command.Root.Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { ProcessTerminationTimeout = null }, shutdown.Token);

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    shutdown.Cancel();
}
