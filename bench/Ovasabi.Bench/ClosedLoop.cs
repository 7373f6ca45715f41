using System.Diagnostics;
using Grpc.Core;
using Ovasabi.Testing;

namespace Ovasabi.Bench;

/// <summary>
/// What a load phase measured: the calls that finished inside the measured window (after the warm-up). Successes
/// give the rate and the latencies; business outcomes (e.g. insufficient funds) are answers, not errors, and are
/// counted apart; errors are counted by gRPC status.
/// </summary>
/// <param name="WarmedUp">How long the warm-up ran: at least the minimum, then until the rate settled and the JIT was quiet.</param>
/// <param name="Settled">Whether both happened before the warm-up's upper bound.</param>
/// <param name="Cpu">CPU time each process of the platform used inside the measured window.</param>
/// <param name="CompiledInWindow">Methods the watched app's JIT compiled inside the measured window.</param>
internal sealed record LoadResult(
    TimeSpan Window,
    long Succeeded,
    IReadOnlyDictionary<string, long> Business,
    IReadOnlyDictionary<string, long> Errors,
    Latency? Latency,
    TimeSpan WarmedUp,
    bool Settled,
    IReadOnlyList<(string Process, TimeSpan Cpu)> Cpu,
    double CompiledInWindow)
{
    public double PerSecond => Succeeded / Window.TotalSeconds;

    public long ErrorCount => Errors.Values.Sum();
}

/// <summary>
/// A closed-loop load generator: each of the concurrent clients sends its next call as soon as the previous one
/// answered, for the warm-up and then the measured window, and stops by itself when the window closes (a call still
/// under way then is awaited, not counted). The warm-up lasts at least its minimum and then until the rate of the last
/// three seconds varies by at most 15 % (pools still filling show as a rising rate) and the watched app's JIT compiled
/// at most <see cref="JitQuietPerSecond"/> methods a second in them (a rate can look steady while hot code still runs
/// unoptimised), or until its upper bound; the processes' CPU time is read when the measured window opens and closes.
/// </summary>
internal static class ClosedLoop
{
    /// <summary>The longest warm-up; a rate that has not settled by then is measured anyway, and the report says so.</summary>
    public static readonly TimeSpan MaxWarmup = TimeSpan.FromSeconds(60);

    /// <summary>Methods a second the watched app may still compile when warm: rare paths are met now and then.</summary>
    public const double JitQuietPerSecond = 20;

    /// <summary>One call that outlives this is DeadlineExceeded, so a stuck platform cannot hold the run.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <param name="call">One call; it passes the token and a deadline to gRPC.</param>
    /// <param name="businessOutcome">Names a refusal that is a business answer, or null when it is an error.</param>
    /// <param name="compiledMethods">How many methods the watched app's JIT has compiled so far.</param>
    public static async Task<LoadResult> RunAsync(
        int concurrency,
        TimeSpan warmup,
        TimeSpan duration,
        Func<CancellationToken, Task> call,
        Func<RpcException, string?> businessOutcome,
        ProcessCpu cpu,
        Func<CancellationToken, Task<double>> compiledMethods,
        CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        // Set by the monitor below once the warm-up ends; until then every call is warm-up.
        long measureFrom = long.MaxValue, measureTo = long.MaxValue, finished = 0;

        async Task<Tally> ClientAsync()
        {
            var tally = new Tally();
            while (!cancellationToken.IsCancellationRequested)
            {
                var began = Stopwatch.GetTimestamp();
                if (began >= Volatile.Read(ref measureTo))
                {
                    break;
                }
                string? business = null, error = null;
                try
                {
                    await call(cancellationToken);
                }
                catch (Exception e) when ((e is RpcException or OperationCanceledException) && cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (RpcException e)
                {
                    business = businessOutcome(e);
                    error = business is not null ? null : Rpc.Reason(e) is { } reason ? $"{e.StatusCode} ({reason})" : e.StatusCode.ToString();
                }
                var ended = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref finished);
                if (ended >= Volatile.Read(ref measureFrom) && ended <= Volatile.Read(ref measureTo))
                {
                    tally.Add(business, error, Stopwatch.GetElapsedTime(began, ended).TotalMilliseconds);
                }
            }
            return tally;
        }

        async Task<(TimeSpan WarmedUp, bool Settled, IReadOnlyList<(string, TimeSpan)> Cpu, double Compiled)> MonitorAsync()
        {
            var rates = new List<long>();
            var compiled = new List<double> { await compiledMethods(cancellationToken) };
            var last = 0L;
            bool settled;
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                var now = Interlocked.Read(ref finished);
                rates.Add(now - last);
                last = now;
                compiled.Add(await compiledMethods(cancellationToken));
                var elapsed = Stopwatch.GetElapsedTime(start);
                settled = rates.Count >= 3 && rates[^3..].Min() > 0 && rates[^3..].Max() <= rates[^3..].Min() * 1.15
                          && compiled[^1] - compiled[^4] <= 3 * JitQuietPerSecond;
                if ((elapsed >= warmup && settled) || elapsed >= MaxWarmup)
                {
                    break;
                }
            }
            var before = cpu.Read();
            var from = Stopwatch.GetTimestamp();
            Volatile.Write(ref measureTo, from + (long)(duration.TotalSeconds * Stopwatch.Frequency));
            Volatile.Write(ref measureFrom, from);
            await Task.Delay(duration, cancellationToken);
            var used = ProcessCpu.Between(before, cpu.Read());
            return (Stopwatch.GetElapsedTime(start, from), settled, used, await compiledMethods(cancellationToken) - compiled[^1]);
        }

        var monitor = MonitorAsync();
        // Task.Run: the clients' continuations spread over the thread pool instead of queueing behind one another.
        var tallies = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(ClientAsync, CancellationToken.None)));
        var (warmedUp, isSettled, used, compiledInWindow) = await monitor;
        cancellationToken.ThrowIfCancellationRequested();
        return new LoadResult(
            duration,
            tallies.Sum(t => t.Succeeded),
            Merge(tallies.Select(t => t.Business)),
            Merge(tallies.Select(t => t.Errors)),
            Latency.Of(tallies.SelectMany(t => t.Milliseconds).ToList()),
            warmedUp,
            isSettled,
            used,
            compiledInWindow);
    }

    private static Dictionary<string, long> Merge(IEnumerable<Dictionary<string, long>> counts) =>
        counts.SelectMany(c => c).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));

    // One per client, so recording needs no locks.
    private sealed class Tally
    {
        public long Succeeded { get; private set; }

        public List<double> Milliseconds { get; } = [];

        public Dictionary<string, long> Business { get; } = [];

        public Dictionary<string, long> Errors { get; } = [];

        public void Add(string? business, string? error, double milliseconds)
        {
            if (business is not null)
            {
                Business[business] = Business.GetValueOrDefault(business) + 1;
            }
            else if (error is not null)
            {
                Errors[error] = Errors.GetValueOrDefault(error) + 1;
            }
            else
            {
                Succeeded++;
                Milliseconds.Add(milliseconds);
            }
        }
    }
}
