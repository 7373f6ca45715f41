using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Finance.Data;
using Ovasabi.Finance.V1;
using Ovasabi.ServiceDefaults.Caching;

namespace Ovasabi.Finance.Domain;

/// <summary>
/// Balances, cache-aside through the Dapr state store (<c>finance:balance:&lt;user&gt;:&lt;currency&gt;</c>). Every
/// posting replaces the cached balance with the one it committed, versioned by the account row, so the cache never
/// holds an older balance than the last one a caller was answered after writing.
/// </summary>
public sealed class BalanceReader(FinanceDbContext db, StateCache cache, FinanceOptions options)
{
    private const string Entity = "balance";

    public Task<Balance> GetAsync(Guid userId, Currency currency, CancellationToken cancellationToken) =>
        cache.GetOrLoadVersionedAsync(Entity, Key(userId, currency.Code), options.BalanceCacheTtl, async ct =>
        {
            var account = await db.Accounts.AsNoTracking()
                .FirstOrDefaultAsync(a => a.Kind == AccountKind.User && a.UserId == userId && a.Currency == currency.Code, ct);
            return account is null
                ? (new Balance { UserId = userId.ToString(), Available = currency.Money(0), Held = currency.Money(0) }, 0L)
                : (ToProto(account), account.Version);
        }, cancellationToken);

    /// <summary>Puts a committed balance in the cache (unless a newer one is there already).</summary>
    public Task PublishAsync(Account account, CancellationToken cancellationToken) =>
        cache.PutIfNewerAsync(Entity, Key(account.UserId!.Value, account.Currency), ToProto(account), account.Version, options.BalanceCacheTtl, cancellationToken);

    private string Key(Guid userId, string currency) => cache.Key(Entity, userId.ToString(), currency);

    private static Balance ToProto(Account account) => new()
    {
        UserId = account.UserId!.Value.ToString(),
        Available = Currencies.Money(account.Currency, account.Available),
        Held = Currencies.Money(account.Currency, account.Held),
        UpdateTime = Timestamp.FromDateTimeOffset(account.UpdatedAt),
    };
}
