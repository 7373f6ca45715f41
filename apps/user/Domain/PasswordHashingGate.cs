using Ovasabi.ServiceDefaults.Hosting;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.User.Domain;

/// <summary>How much password hashing may run at once (configuration section <c>User:PasswordHashing</c>).</summary>
public sealed class PasswordHashingOptions
{
    public const string Section = "User:PasswordHashing";

    /// <summary>
    /// Hashes computed at the same time; each Argon2id hash holds its memory cost (19 MiB) while it runs. The default, one
    /// per core up to 4, keeps them under 80 MiB however many cores the node shows the container.
    /// </summary>
    public int MaxConcurrent { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>Calls waiting for a turn; beyond them a call is refused at once (ResourceExhausted).</summary>
    public int MaxQueued { get; set; } = 64;

    public static IEnumerable<string> Problems(PasswordHashingOptions o) =>
        Settings.Check(o.MaxConcurrent > 0, $"{Section}:MaxConcurrent", "must be positive")
            .Concat(Settings.Check(o.MaxQueued >= 0, $"{Section}:MaxQueued", "must not be negative"));
}

/// <summary>
/// Bounds the password hashing that sign-ups, sign-ins and password changes cause: at most
/// <see cref="PasswordHashingOptions.MaxConcurrent"/> run, a bounded queue waits, and a call beyond it is
/// ResourceExhausted. Without it a flood of anonymous sign-ups makes as many 19 MiB hashes at once as requests arrive,
/// and the app runs out of memory.
/// </summary>
public sealed class PasswordHashingGate(IOptions<PasswordHashingOptions> options) : IDisposable
{
    private readonly ConcurrencyLimiter _limiter = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = options.Value.MaxConcurrent,
        QueueLimit = options.Value.MaxQueued,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>Runs <paramref name="work"/> (a hash or a verification) when a turn is free.</summary>
    /// <exception cref="ResourceExhaustedException">The queue is full.</exception>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        using var lease = await _limiter.AcquireAsync(1, cancellationToken);
        return lease.IsAcquired
            ? work()
            : throw new ResourceExhaustedException("too many passwords are being checked right now: retry in a moment", "PASSWORD_HASHING_BUSY");
    }

    /// <inheritdoc cref="RunAsync{T}"/>
    public Task RunAsync(Action work, CancellationToken cancellationToken) => RunAsync(() =>
    {
        work();
        return true;
    }, cancellationToken);

    public void Dispose() => _limiter.Dispose();
}
