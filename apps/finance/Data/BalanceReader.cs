using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Ovasabi.Finance.Domain;
using Ovasabi.Finance.Grpc;
using Ovasabi.Finance.V1;
using Ovasabi.ServiceDefaults.Caching;

namespace Ovasabi.Finance.Data;

/// <summary>
/// Balances, cache-aside through the Dapr state store (<c>finance:balance:&lt;user&gt;:&lt;currency&gt;</c>), versioned
/// by the account row. Every posting marks the balances it changed stale at the version it committed, before it
/// answers, and a reader stores what it loaded only above the mark, so the cache never serves an older balance than
/// the last one a caller was answered after writing. An entry can still vanish (TTL, eviction) and be refilled by a
/// reader that loaded it just before a commit; the versions this replica committed are remembered, so such an entry
/// is never served here. The cache keeps the contract's message, as it is answered.
/// </summary>
public sealed class BalanceReader(FinanceDbContext db, StateCache cache, CommittedVersions committed, IOptions<FinanceOptions> options)
{
    private const string Entity = "balance";

    public Task<Balance> GetAsync(Guid userId, Currency currency, CancellationToken cancellationToken) =>
        cache.GetOrLoadVersionedAsync(Entity, Key(userId, currency.Code), options.Value.BalanceCacheTtl, async ct =>
        {
            var account = await db.Accounts.AsNoTracking()
                .FirstOrDefaultAsync(a => a.Kind == AccountKind.User && a.UserId == userId && a.Currency == currency.Code, ct);
            return account is null
                ? (FinanceMapping.Balance(new BalanceView(userId, currency.Code, 0, 0, null)), 0L)
                : (ToProto(account), account.Version);
        }, committed.Of(Key(userId, currency.Code)), cancellationToken);

    /// <summary>After a commit: the accounts' cached balances are stale below the versions it wrote (one state store call).</summary>
    public Task MarkStaleAsync(IReadOnlyCollection<(Guid UserId, string Currency, long Version)> accounts, CancellationToken cancellationToken)
    {
        var marks = accounts.Select(account =>
        {
            var key = Key(account.UserId, account.Currency);
            // A mark never below what this replica already committed, whichever of its commits' calls lands last.
            return (key, committed.Record(key, account.Version));
        }).ToList();
        return cache.MarkStaleAsync(Entity, marks, options.Value.BalanceCacheTtl, cancellationToken);
    }

    private string Key(Guid userId, string currency) => cache.Key(Entity, userId.ToString(), currency);

    private static Balance ToProto(Account account) =>
        FinanceMapping.Balance(new BalanceView(account.UserId!.Value, account.Currency, account.Available, account.Held, account.UpdatedAt));
}

/// <summary>
/// The newest balance version this replica committed per cache key, kept as long as a cache entry lives: the floor
/// below which a cached balance is not served.
/// </summary>
public sealed class CommittedVersions(IOptions<FinanceOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (long Version, DateTimeOffset Until)> _versions = new(StringComparer.Ordinal);
    private long _records;

    public long Of(string key) => _versions.TryGetValue(key, out var entry) && entry.Until > time.GetUtcNow() ? entry.Version : 0;

    /// <summary>Remembers a committed version; returns the newest one this replica committed for the key.</summary>
    public long Record(string key, long version)
    {
        var until = time.GetUtcNow() + options.Value.BalanceCacheTtl;
        var newest = _versions.AddOrUpdate(key, (version, until), (_, old) => (Math.Max(old.Version, version), until)).Version;
        // Now and then, forget what no cache entry can hold any more.
        if (Interlocked.Increment(ref _records) % 10_000 == 0)
        {
            var now = time.GetUtcNow();
            foreach (var (stale, entry) in _versions)
            {
                if (entry.Until <= now)
                {
                    _versions.TryRemove(new KeyValuePair<string, (long, DateTimeOffset)>(stale, entry));
                }
            }
        }
        return newest;
    }
}
