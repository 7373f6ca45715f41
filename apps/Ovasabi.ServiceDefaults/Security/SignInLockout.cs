using Ovasabi.ServiceDefaults.Hosting;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapr.Client;
using Microsoft.Extensions.Options;
using Ovasabi.ServiceDefaults.Caching;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>How wrong passwords lock an account (configuration section <c>Security:Lockout</c>, the same for every app).</summary>
public sealed class LockoutOptions
{
    public const string Section = "Security:Lockout";

    /// <summary>Wrong passwords in a row that lock an account.</summary>
    public int MaxFailures { get; set; } = 5;

    /// <summary>The first lock's length; each further lock doubles it, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan BaseBackoff { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long failure counters are kept after the last failure.</summary>
    public TimeSpan Memory { get; set; } = TimeSpan.FromDays(1);

    public static IEnumerable<string> Problems(LockoutOptions o) =>
        Settings.Check(o.MaxFailures > 0, $"{Section}:MaxFailures", "must be positive")
            .Concat(Settings.Check(o.BaseBackoff > TimeSpan.Zero, $"{Section}:BaseBackoff", "must be positive"))
            .Concat(Settings.Check(o.MaxBackoff >= o.BaseBackoff, $"{Section}:MaxBackoff", "must be at least BaseBackoff"))
            .Concat(Settings.Check(o.Memory > TimeSpan.Zero, $"{Section}:Memory", "must be positive"));
}

/// <summary>Wrong passwords for one account: how many in a row, how many locks so far, and until when it is locked.</summary>
public sealed record LockoutState(int Failures, int Locks, DateTimeOffset? LockedUntil);

/// <summary>
/// Brute-force lockout, shared by every place a password is checked (auth's sign-in, the user service's password
/// change), so guesses count together wherever they are made. Counters live in the session store, which every app
/// reads without an app prefix, expire with <see cref="LockoutOptions.Memory"/>, and count per account, or per login
/// as typed when no account has that name.
/// </summary>
public sealed class SignInLockout(DaprClient dapr, IOptions<SecurityOptions> security, StateStoreBreaker breaker, IOptions<LockoutOptions> options, TimeProvider time)
{
    private readonly LockoutOptions _options = options.Value;

    public int MaxFailures => _options.MaxFailures;

    /// <summary>
    /// The state key of the counters: the account's ID when the login names one, else the login as typed (NFKC, lower
    /// case). Hashed, so keys carry no personal data.
    /// </summary>
    public static string Key(string? accountId, string login = "")
    {
        var subject = accountId is not null ? "account:" + accountId.ToLowerInvariant() : "login:" + login.Trim().Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        return $"auth:lockout:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)))}";
    }

    public async Task<bool> IsLockedAsync(string key, CancellationToken cancellationToken)
    {
        var state = await breaker.ExecuteAsync(security.Value.SessionStoreName,
            async ct => await dapr.GetStateAsync<LockoutState?>(security.Value.SessionStoreName, key, cancellationToken: ct), cancellationToken);
        return state?.LockedUntil > time.GetUtcNow();
    }

    /// <summary>Counts a failure; the account locks at the limit, each lock twice as long as the one before.</summary>
    public async Task<LockoutState> RecordFailureAsync(string key, CancellationToken cancellationToken) =>
        await breaker.ExecuteAsync(security.Value.SessionStoreName, async ct => await CountFailureAsync(key, ct), cancellationToken);

    private async Task<LockoutState> CountFailureAsync(string key, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string> { ["ttlInSeconds"] = ((int)_options.Memory.TotalSeconds).ToString(CultureInfo.InvariantCulture) };
        var firstWrite = new StateOptions { Concurrency = ConcurrencyMode.FirstWrite };
        // Optimistic concurrency on the etag: parallel failures must each count.
        for (var attempt = 0; ; attempt++)
        {
            var (state, etag) = await dapr.GetStateAndETagAsync<LockoutState?>(security.Value.SessionStoreName, key, cancellationToken: cancellationToken);
            var now = time.GetUtcNow();
            var current = state ?? new LockoutState(0, 0, null);
            if (current.LockedUntil is { } until && until <= now)
            {
                current = current with { Failures = 0, LockedUntil = null };
            }
            var failures = current.Failures + 1;
            var next = failures >= _options.MaxFailures && current.LockedUntil is null
                ? new LockoutState(failures, current.Locks + 1, now + Backoff(current.Locks + 1))
                : current with { Failures = failures };
            if (string.IsNullOrEmpty(etag))
            {
                await dapr.SaveStateAsync(security.Value.SessionStoreName, key, next, firstWrite, metadata, cancellationToken);
                return next;
            }
            if (await dapr.TrySaveStateAsync(security.Value.SessionStoreName, key, next, etag, firstWrite, metadata, cancellationToken) || attempt >= 10)
            {
                return next;
            }
        }
    }

    public async Task ClearAsync(string key, CancellationToken cancellationToken) =>
        await breaker.ExecuteAsync(security.Value.SessionStoreName, async ct => await dapr.DeleteStateAsync(security.Value.SessionStoreName, key, cancellationToken: ct), cancellationToken);

    public TimeSpan Backoff(int lockNumber)
    {
        var factor = Math.Pow(2, Math.Min(lockNumber - 1, 30));
        return TimeSpan.FromTicks((long)Math.Min(_options.BaseBackoff.Ticks * factor, _options.MaxBackoff.Ticks));
    }
}
