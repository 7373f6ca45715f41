using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Common.V1;
using Ovasabi.Finance.Data;
using Ovasabi.Finance.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Finance.Domain;

/// <summary>A user's transactions (as sender or receiver), newest first in pages, and statements of a period.</summary>
public sealed class TransactionHistory(FinanceDbContext db, Currencies currencies, byte[] pageTokenKey)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    /// <summary>A statement lists at most this many transactions; a busier period must be asked for in parts.</summary>
    public const int MaxStatementTransactions = 10_000;

    public static readonly TimeSpan MaxStatementPeriod = TimeSpan.FromDays(366);

    private const string Order = "create_time desc";

    public async Task<ListTransactionsResponse> ListAsync(ListTransactionsRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        var userId = caller.TargetUser(validator, "user_id", request.UserId);
        if (request.CurrencyCode.Length > 0)
        {
            currencies.Find(validator, "currency_code", request.CurrencyCode);
        }
        var size = request.Page?.PageSize ?? 0;
        validator.Check("page.page_size", size is >= 0 and <= MaxPageSize, $"must be between 1 and {MaxPageSize} (0 for the default of {DefaultPageSize})");
        validator.Check("transaction_types", request.TransactionTypes.All(t => t != TransactionType.Unspecified && Enum.IsDefined(t)), "holds an unknown transaction type");
        validator.Check("statuses", request.Statuses.All(s => s != TransactionStatus.Unspecified && Enum.IsDefined(s)), "holds an unknown status");
        CheckPeriod(validator, "created_after", request.CreatedAfter, "created_before", request.CreatedBefore, required: false);
        validator.ThrowIfInvalid();

        var fingerprint = PageToken.Fingerprint(userId.ToString(), request.CurrencyCode, string.Join(',', request.TransactionTypes), string.Join(',', request.Statuses),
            request.CreatedAfter?.ToString(), request.CreatedBefore?.ToString());
        PageCursor? cursor = null;
        if (!string.IsNullOrEmpty(request.Page?.PageToken))
        {
            cursor = PageToken.Decode(request.Page.PageToken, pageTokenKey, Order, fingerprint)
                     ?? throw new InvalidArgumentException("page.page_token", "is invalid, or belongs to another filter");
        }
        size = size == 0 ? DefaultPageSize : size;

        var query = Involving(userId, request.CurrencyCode);
        if (request.TransactionTypes.Count > 0)
        {
            var types = request.TransactionTypes.ToList();
            query = query.Where(t => types.Contains(t.Type));
        }
        if (request.Statuses.Count > 0)
        {
            var statuses = request.Statuses.ToList();
            query = query.Where(t => statuses.Contains(t.Status));
        }
        if (request.CreatedAfter is { } after)
        {
            var from = after.ToDateTimeOffset();
            query = query.Where(t => t.CreatedAt > from);
        }
        if (request.CreatedBefore is { } before)
        {
            var to = before.ToDateTimeOffset();
            query = query.Where(t => t.CreatedAt < to);
        }
        if (cursor is not null)
        {
            var (time, id) = (DateTimeOffset.ParseExact(cursor.LastSortValue, "O", CultureInfo.InvariantCulture), cursor.LastId);
            query = query.Where(t => EF.Functions.LessThan(ValueTuple.Create(t.CreatedAt, t.Master.Uuid), ValueTuple.Create(time, id)));
        }
        var rows = await query.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Master.Uuid).Take(size + 1).ToListAsync(cancellationToken);
        var response = new ListTransactionsResponse { Page = new PageResponse() };
        response.Transactions.AddRange(rows.Take(size).Select(Ledger.ToProto));
        if (rows.Count > size)
        {
            var last = rows[size - 1];
            response.Page.NextPageToken = PageToken.Encode(new PageCursor(Order, last.CreatedAt.ToString("O", CultureInfo.InvariantCulture), last.Master.Uuid, fingerprint), pageTokenKey);
        }
        return response;
    }

    public async Task<Statement> StatementAsync(GetStatementRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        var userId = caller.TargetUser(validator, "user_id", request.UserId);
        var currency = currencies.Find(validator, "currency_code", request.CurrencyCode);
        CheckPeriod(validator, "period_start", request.PeriodStart, "period_end", request.PeriodEnd, required: true);
        validator.ThrowIfInvalid();
        var (start, end) = (request.PeriodStart.ToDateTimeOffset(), request.PeriodEnd.ToDateTimeOffset());

        var transactions = await Involving(userId, currency!.Code).Where(t => t.CreatedAt >= start && t.CreatedAt < end)
            .OrderBy(t => t.CreatedAt).ThenBy(t => t.Id).Take(MaxStatementTransactions + 1).ToListAsync(cancellationToken);
        if (transactions.Count > MaxStatementTransactions)
        {
            throw new FailedPreconditionException($"the period has more than {MaxStatementTransactions} transactions: ask for a shorter one", "STATEMENT_TOO_LARGE");
        }
        var account = await db.Accounts.AsNoTracking().Where(a => a.Kind == AccountKind.User && a.UserId == userId && a.Currency == currency.Code)
            .Select(a => (long?)a.Id).FirstOrDefaultAsync(cancellationToken);
        var statement = new Statement
        {
            UserId = userId.ToString(),
            PeriodStart = request.PeriodStart,
            PeriodEnd = request.PeriodEnd,
            OpeningBalance = currency.Money(await BalanceBeforeAsync(account, start, cancellationToken)),
            ClosingBalance = currency.Money(await BalanceBeforeAsync(account, end, cancellationToken)),
        };
        statement.Transactions.AddRange(transactions.Select(Ledger.ToProto));
        return statement;
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

    private static void CheckPeriod(Validator validator, string startField, Google.Protobuf.WellKnownTypes.Timestamp? start,
        string endField, Google.Protobuf.WellKnownTypes.Timestamp? end, bool required)
    {
        if (required)
        {
            validator.Check(startField, start is not null, "is required").Check(endField, end is not null, "is required");
        }
        if (start is not null && end is not null)
        {
            var (from, to) = (start.ToDateTimeOffset(), end.ToDateTimeOffset());
            validator.Check(endField, to > from, $"must be after {startField}");
            if (required)
            {
                validator.Check(endField, to - from <= MaxStatementPeriod, $"must be at most {MaxStatementPeriod.TotalDays:0} days after {startField}");
            }
        }
    }
}
