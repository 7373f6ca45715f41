using System.Runtime.InteropServices;
using Ovasabi.Bench;
using Ovasabi.Bench.Notification;

var command = new BenchCommand();
command.Root.SetAction(Run(command.Bind, Benchmark.RunAsync));
command.Notification.SetAction(Run(command.BindNotification, NotificationBenchmark.RunAsync));
command.EchoServerCommand.SetAction(Run(command.BindEchoServer, EchoServer.RunAsync));

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

// A command's action: its options bound (2 with the reason when one is unusable), then the run.
static Func<System.CommandLine.ParseResult, CancellationToken, Task<int>> Run<TOptions>(Func<System.CommandLine.ParseResult, TOptions> bind,
    Func<TOptions, CancellationToken, Task<int>> run) => async (parse, cancellationToken) =>
{
    TOptions options;
    try
    {
        options = bind(parse);
    }
    catch (ArgumentException e)
    {
        await Console.Error.WriteLineAsync($"invalid option: {e.Message}");
        return 2;
    }
    return await run(options, cancellationToken);
};
