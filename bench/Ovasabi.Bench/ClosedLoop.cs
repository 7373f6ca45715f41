using System.Diagnostics;
using Grpc.Core;
using Ovasabi.Testing;

namespace Ovasabi.Bench;

/// <summary>
/// What a load phase measured: the calls that finished inside the measured window (after the warm-up). Successes
/// give the rate and the latencies; business outcomes (e.g. insufficient funds) are answers, not errors, and are
/// counted apart; errors are counted by gRPC status.
/// </summary>
internal sealed record LoadResult(
    TimeSpan Window,
    long Succeeded,
    IReadOnlyDictionary<string, long> Business,
    IReadOnlyDictionary<string, long> Errors,
    Latency? Latency)
{
    public double PerSecond => Succeeded / Window.TotalSeconds;

    public long ErrorCount => Errors.Values.Sum();
}

/// <summary>
/// A closed-loop load generator: each of the concurrent clients sends its next call as soon as the previous one
/// answered, for the warm-up and then the measured window, and stops by itself when the window closes (a call still
/// under way then is awaited, not counted).
/// </summary>
internal static class ClosedLoop
{
    /// <summary>One call that outlives this is DeadlineExceeded, so a stuck platform cannot hold the run.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <param name="call">One call; it passes the token and a deadline to gRPC.</param>
    /// <param name="businessOutcome">Names a refusal that is a business answer, or null when it is an error.</param>
    public static async Task<LoadResult> RunAsync(
        int concurrency,
        TimeSpan warmup,
        TimeSpan duration,
        Func<CancellationToken, Task> call,
        Func<RpcException, string?> businessOutcome,
        CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureTo = measureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        async Task<Tally> ClientAsync()
        {
            var tally = new Tally();
            while (!cancellationToken.IsCancellationRequested)
            {
                var began = Stopwatch.GetTimestamp();
                if (began >= measureTo)
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
                if (ended >= measureFrom && ended <= measureTo)
                {
                    tally.Add(business, error, Stopwatch.GetElapsedTime(began, ended).TotalMilliseconds);
                }
            }
            return tally;
        }

        // Task.Run: the clients' continuations spread over the thread pool instead of queueing behind one another.
        var tallies = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(ClientAsync, CancellationToken.None)));
        cancellationToken.ThrowIfCancellationRequested();
        return new LoadResult(
            duration,
            tallies.Sum(t => t.Succeeded),
            Merge(tallies.Select(t => t.Business)),
            Merge(tallies.Select(t => t.Errors)),
            Latency.Of(tallies.SelectMany(t => t.Milliseconds).ToList()));
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
