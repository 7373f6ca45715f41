using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Finance.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Finance.Data;

/// <summary>A user's transactions (as sender or receiver), newest first in pages, and statements of a period.</summary>
public sealed class TransactionHistory(FinanceDbContext db, byte[] pageTokenKey)
{
    private const string Order = "create_time desc";

    /// <summary>A page of the filter's transactions and the token of the next page ("" after the last).</summary>
    public async Task<(IReadOnlyList<TransactionView> Transactions, string NextPageToken)> ListAsync(
        TransactionFilter filter, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var fingerprint = PageToken.Fingerprint(filter.Fingerprint());
        PageCursor? cursor = null;
        if (!string.IsNullOrEmpty(pageToken))
        {
            cursor = PageToken.Decode(pageToken, pageTokenKey, Order, fingerprint)
                     ?? throw new InvalidArgumentException("page.page_token", "is invalid, or belongs to another filter");
        }
        var query = Involving(filter.UserId, filter.Currency);
        if (filter.Kinds.Count > 0)
        {
            var kinds = filter.Kinds.ToList();
            query = query.Where(t => kinds.Contains(t.Type));
        }
        if (filter.States.Count > 0)
        {
            var states = filter.States.ToList();
            query = query.Where(t => states.Contains(t.Status));
        }
        if (filter.CreatedAfter is { } after)
        {
            query = query.Where(t => t.CreatedAt > after);
        }
        if (filter.CreatedBefore is { } before)
        {
            query = query.Where(t => t.CreatedAt < before);
        }
        if (cursor is not null)
        {
            var (time, id) = (DateTimeOffset.ParseExact(cursor.LastSortValue, "O", CultureInfo.InvariantCulture), cursor.LastId);
            query = query.Where(t => EF.Functions.LessThan(ValueTuple.Create(t.CreatedAt, t.Master.Uuid), ValueTuple.Create(time, id)));
        }
        var rows = await query.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Master.Uuid).Take(pageSize + 1).ToListAsync(cancellationToken);
        var next = "";
        if (rows.Count > pageSize)
        {
            var last = rows[pageSize - 1];
            next = PageToken.Encode(new PageCursor(Order, last.CreatedAt.ToString("O", CultureInfo.InvariantCulture), last.Master.Uuid, fingerprint), pageTokenKey);
        }
        return (rows.Take(pageSize).Select(Ledger.View).ToList(), next);
    }

    /// <summary>The user's transactions in [start, end) with the balance before and after.</summary>
    public async Task<StatementView> StatementAsync(Guid userId, Currency currency, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var transactions = await Involving(userId, currency.Code).Where(t => t.CreatedAt >= start && t.CreatedAt < end)
            .OrderBy(t => t.CreatedAt).ThenBy(t => t.Id).Take(HistoryRules.MaxStatementTransactions + 1).ToListAsync(cancellationToken);
        HistoryRules.EnsureStatementSize(transactions.Count);
        var account = await db.Accounts.AsNoTracking().Where(a => a.Kind == AccountKind.User && a.UserId == userId && a.Currency == currency.Code)
            .Select(a => (long?)a.Id).FirstOrDefaultAsync(cancellationToken);
        return new StatementView(userId, currency, start, end, await BalanceBeforeAsync(account, start, cancellationToken),
            await BalanceBeforeAsync(account, end, cancellationToken), transactions.Select(Ledger.View).ToList());
    }

    /// <summary>Available plus held of the account just before <paramref name="time"/>: the sum of its earlier entries.</summary>
    private async Task<long> BalanceBeforeAsync(long? accountId, DateTimeOffset time, CancellationToken cancellationToken) =>
        accountId is null ? 0 : await db.Entries.Where(e => e.AccountId == accountId && e.CreatedAt < time).SumAsync(e => e.Amount, cancellationToken);

    private IQueryable<LedgerTransaction> Involving(Guid userId, string currency)
    {
        var query = db.Transactions.AsNoTracking().Include(t => t.Master).Include(t => t.Related!.Master)
            .Where(t => t.UserId == userId || t.CounterpartyUserId == userId);
        return currency.Length > 0 ? query.Where(t => t.Currency == currency) : query;
    }
}
