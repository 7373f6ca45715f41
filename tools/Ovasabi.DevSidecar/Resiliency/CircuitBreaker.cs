using System.Text.RegularExpressions;
using Polly;
using Polly.CircuitBreaker;

namespace Ovasabi.DevSidecar.Resiliency;

/// <summary>The counters a Dapr circuit breaker's <c>trip</c> expression can read (daprd uses sony/gobreaker's).</summary>
public readonly record struct BreakerCounts(long Requests, long TotalSuccesses, long TotalFailures, long ConsecutiveSuccesses, long ConsecutiveFailures);

/// <summary>
/// A Dapr-style circuit breaker: closed until <c>trip</c> holds, then open for <c>timeout</c>, then half-open letting
/// <c>maxRequests</c> calls through; counts reset every <c>interval</c> while closed (0 = never).
/// Polly's breaker decides on failure ratios, which cannot express Dapr's trip expressions, hence this strategy.
/// </summary>
public sealed class CircuitBreaker(string name, int maxRequests, TimeSpan interval, TimeSpan timeout, Func<BreakerCounts, bool> trip, TimeProvider time)
{
    private enum State { Closed, Open, HalfOpen }

    private readonly Lock _lock = new();
    private State _state = State.Closed;
    private BreakerCounts _counts;
    private DateTimeOffset _expiry = DateTimeOffset.MaxValue;

    public string Name { get; } = name;

    public bool IsOpen
    {
        get
        {
            lock (_lock)
            {
                Refresh();
                return _state == State.Open;
            }
        }
    }

    /// <summary>Admits a call or throws <see cref="BrokenCircuitException"/>.</summary>
    public void Enter()
    {
        lock (_lock)
        {
            Refresh();
            if (_state == State.Open || (_state == State.HalfOpen && _counts.Requests >= Math.Max(1, maxRequests)))
            {
                throw new BrokenCircuitException($"circuit breaker '{Name}' is open");
            }
            _counts = _counts with { Requests = _counts.Requests + 1 };
        }
    }

    public void Exit(bool success)
    {
        lock (_lock)
        {
            Refresh();
            if (success)
            {
                _counts = _counts with { TotalSuccesses = _counts.TotalSuccesses + 1, ConsecutiveSuccesses = _counts.ConsecutiveSuccesses + 1, ConsecutiveFailures = 0 };
                if (_state == State.HalfOpen && _counts.ConsecutiveSuccesses >= Math.Max(1, maxRequests))
                {
                    Move(State.Closed);
                }
                return;
            }
            _counts = _counts with { TotalFailures = _counts.TotalFailures + 1, ConsecutiveFailures = _counts.ConsecutiveFailures + 1, ConsecutiveSuccesses = 0 };
            if (_state == State.HalfOpen || (_state == State.Closed && trip(_counts)))
            {
                Move(State.Open);
            }
        }
    }

    private void Refresh()
    {
        var now = time.GetUtcNow();
        if (now < _expiry)
        {
            return;
        }
        if (_state == State.Closed)
        {
            Move(State.Closed);
        }
        else if (_state == State.Open)
        {
            Move(State.HalfOpen);
        }
    }

    private void Move(State state)
    {
        _state = state;
        _counts = default;
        var now = time.GetUtcNow();
        _expiry = state switch
        {
            State.Closed => interval > TimeSpan.Zero ? now + interval : DateTimeOffset.MaxValue,
            State.Open => now + timeout,
            _ => DateTimeOffset.MaxValue,
        };
    }
}

/// <summary>Parses the trip expressions Dapr documents: comparisons of the breaker counters joined by && and ||.</summary>
public static partial class TripExpression
{
    [GeneratedRegex(@"^\s*(?<var>requests|totalSuccesses|totalFailures|consecutiveSuccesses|consecutiveFailures)\s*(?<op>>=|<=|==|!=|>|<)\s*(?<n>\d+)\s*$")]
    private static partial Regex Comparison();

    public static Func<BreakerCounts, bool> Parse(string expression)
    {
        var alternatives = expression.Split("||").Select(alternative =>
            alternative.Split("&&").Select(ParseComparison).ToArray()).ToArray();
        return counts => alternatives.Any(all => all.All(test => test(counts)));
    }

    private static Func<BreakerCounts, bool> ParseComparison(string text)
    {
        var match = Comparison().Match(text);
        if (!match.Success)
        {
            throw new FormatException($"unsupported trip expression '{text.Trim()}' (use e.g. consecutiveFailures >= 5)");
        }
        var n = long.Parse(match.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Func<BreakerCounts, long> read = match.Groups["var"].Value switch
        {
            "requests" => c => c.Requests,
            "totalSuccesses" => c => c.TotalSuccesses,
            "totalFailures" => c => c.TotalFailures,
            "consecutiveSuccesses" => c => c.ConsecutiveSuccesses,
            _ => c => c.ConsecutiveFailures,
        };
        return match.Groups["op"].Value switch
        {
            ">=" => c => read(c) >= n,
            "<=" => c => read(c) <= n,
            "==" => c => read(c) == n,
            "!=" => c => read(c) != n,
            ">" => c => read(c) > n,
            _ => c => read(c) < n,
        };
    }
}
