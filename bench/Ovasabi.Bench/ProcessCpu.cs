using System.Globalization;

namespace Ovasabi.Bench;

/// <summary>
/// The CPU time (user + system) the platform's processes have used so far, read from <c>/proc/&lt;pid&gt;/stat</c>,
/// and this process's own (the load generator).
/// </summary>
internal sealed class ProcessCpu(IReadOnlyList<(string Name, int Pid)> processes)
{
    // USER_HZ: the unit of utime and stime in /proc/<pid>/stat; 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    public const string LoadGenerator = "bench (load generator)";

    public IReadOnlyList<(string Name, TimeSpan Used)> Read() =>
        [.. processes.Select(p => (p.Name, Used(p.Pid))), (LoadGenerator, System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime)];

    public static IReadOnlyList<(string, TimeSpan)> Between(IReadOnlyList<(string Name, TimeSpan Used)> before, IReadOnlyList<(string Name, TimeSpan Used)> after) =>
        [.. before.Zip(after, (b, a) => (b.Name, a.Used - b.Used))];

    private static TimeSpan Used(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
        // The command name (field 2) may hold spaces: the fields after it start past its closing parenthesis.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
