namespace Ovasabi.Bench;

/// <summary>The CPU time (user + system) the platform's processes have used so far, and this process's own (the load generator).</summary>
internal sealed class ProcessCpu(IReadOnlyList<(string Name, Func<TimeSpan> Used)> processes)
{
    public const string LoadGenerator = "bench (load generator)";

    public IReadOnlyList<(string Name, TimeSpan Used)> Read() =>
        [.. processes.Select(p => (p.Name, p.Used())), (LoadGenerator, System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime)];

    public static IReadOnlyList<(string, TimeSpan)> Between(IReadOnlyList<(string Name, TimeSpan Used)> before, IReadOnlyList<(string Name, TimeSpan Used)> after) =>
        [.. before.Zip(after, (b, a) => (b.Name, a.Used - b.Used))];
}
