using System.Threading.RateLimiting;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>Attempts per sliding window per key (an account, a client address), in memory, so per replica.</summary>
public sealed class KeyedRateLimit(int permits, TimeSpan window, string reason) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(
        key => RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            SegmentsPerWindow = 6,
            QueueLimit = 0,
        }), StringComparer.Ordinal);

    /// <summary>Takes one attempt from the key's budget; ResourceExhausted naming <paramref name="what"/> when it is spent.</summary>
    public void Admit(string key, string what)
    {
        using var lease = _limiter.AttemptAcquire(key);
        if (!lease.IsAcquired)
        {
            var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? $"; retry in {Math.Ceiling(after.TotalSeconds)} s" : "";
            throw new ResourceExhaustedException($"too many {what}{retry}", reason);
        }
    }

    public void Dispose() => _limiter.Dispose();
}
