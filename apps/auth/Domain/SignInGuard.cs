using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Dapr.Client;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.Auth.Domain;

/// <summary>Failed sign-ins of one login: how many in a row, how many locks so far, and until when it is locked.</summary>
public sealed record LockoutState(int Failures, int Locks, DateTimeOffset? LockedUntil);

/// <summary>
/// Brute-force defences. Lockout counters live in the state store (shared by replicas, expiring with
/// <see cref="LockoutOptions.Memory"/>) and count per account, or per login as typed when no account has that name.
/// Rate limits are sliding windows per account and per client address, in memory (so per replica).
/// </summary>
public sealed class SignInGuard : IDisposable
{
    private readonly DaprClient _dapr;
    private readonly ServiceOptions _service;
    private readonly LockoutOptions _lockout;
    private readonly PartitionedRateLimiter<string> _perAccount;
    private readonly PartitionedRateLimiter<string> _perAddress;

    public SignInGuard(DaprClient dapr, ServiceOptions service, AuthOptions options)
    {
        _dapr = dapr;
        _service = service;
        _lockout = options.Lockout;
        _perAccount = Limiter(options.RateLimits.PerAccount, options.RateLimits.Window);
        _perAddress = Limiter(options.RateLimits.PerAddress, options.RateLimits.Window);
    }

    /// <summary>
    /// The state key of the counters: the account's ID when the login names one, else the login as typed (NFKC, lower
    /// case). Hashed, so keys carry no personal data.
    /// </summary>
    public static string LockoutKey(string? accountId, string login)
    {
        var subject = accountId is not null ? "account:" + accountId : "login:" + login.Trim().Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        return $"auth:lockout:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)))}";
    }

    public int MaxFailures => _lockout.MaxFailures;

    /// <summary>Takes one attempt from the client address's budget; ResourceExhausted when it is spent.</summary>
    public void AdmitAddress(string address) => Admit(_perAddress, address, "this client address");

    /// <summary>Takes one attempt from the account's budget (keyed like the lockout counters); ResourceExhausted when it is spent.</summary>
    public void AdmitAccount(string lockoutKey) => Admit(_perAccount, lockoutKey, "this account");

    public async Task<bool> IsLockedAsync(string loginKey, CancellationToken cancellationToken)
    {
        var state = await _dapr.GetStateAsync<LockoutState?>(_service.StateStoreName, loginKey, cancellationToken: cancellationToken);
        return state?.LockedUntil > DateTimeOffset.UtcNow;
    }

    /// <summary>Counts a failure; the account locks at the limit, each lock twice as long as the one before.</summary>
    public async Task<LockoutState> RecordFailureAsync(string loginKey, CancellationToken cancellationToken)
    {
        // Optimistic concurrency on the etag: parallel failures must each count.
        for (var attempt = 0; ; attempt++)
        {
            var (state, etag) = await _dapr.GetStateAndETagAsync<LockoutState?>(_service.StateStoreName, loginKey, cancellationToken: cancellationToken);
            var now = DateTimeOffset.UtcNow;
            var current = state ?? new LockoutState(0, 0, null);
            if (current.LockedUntil is { } until && until <= now)
            {
                current = current with { Failures = 0, LockedUntil = null };
            }
            var failures = current.Failures + 1;
            var next = failures >= _lockout.MaxFailures && current.LockedUntil is null
                ? new LockoutState(failures, current.Locks + 1, now + Backoff(current.Locks + 1))
                : current with { Failures = failures };
            var metadata = new Dictionary<string, string> { ["ttlInSeconds"] = ((int)_lockout.Memory.TotalSeconds).ToString(CultureInfo.InvariantCulture) };
            if (string.IsNullOrEmpty(etag))
            {
                await _dapr.SaveStateAsync(_service.StateStoreName, loginKey, next, new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, metadata, cancellationToken);
                return next;
            }
            if (await _dapr.TrySaveStateAsync(_service.StateStoreName, loginKey, next, etag, new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, metadata, cancellationToken) || attempt >= 10)
            {
                return next;
            }
        }
    }

    public Task ClearAsync(string loginKey, CancellationToken cancellationToken) =>
        _dapr.DeleteStateAsync(_service.StateStoreName, loginKey, cancellationToken: cancellationToken);

    public TimeSpan Backoff(int lockNumber)
    {
        var factor = Math.Pow(2, Math.Min(lockNumber - 1, 30));
        return TimeSpan.FromTicks((long)Math.Min(_lockout.BaseBackoff.Ticks * factor, _lockout.MaxBackoff.Ticks));
    }

    public void Dispose()
    {
        _perAccount.Dispose();
        _perAddress.Dispose();
    }

    private static PartitionedRateLimiter<string> Limiter(int permits, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            SegmentsPerWindow = 6,
            QueueLimit = 0,
        }), StringComparer.Ordinal);

    private static void Admit(PartitionedRateLimiter<string> limiter, string key, string who)
    {
        using var lease = limiter.AttemptAcquire(key);
        if (!lease.IsAcquired)
        {
            throw Exhausted(lease, who);
        }
    }

    private static ResourceExhaustedException Exhausted(RateLimitLease lease, string who)
    {
        var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? $"; retry in {Math.Ceiling(after.TotalSeconds)} s" : "";
        return new ResourceExhaustedException($"too many sign-in attempts from {who}{retry}", "SIGN_IN_RATE_LIMITED");
    }
}
