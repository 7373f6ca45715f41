using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Finance.Domain;

/// <summary>Which of a user's transactions (as sender or receiver) a listing shows; empty lists and nulls filter nothing.</summary>
public sealed record TransactionFilter(Guid UserId, string Currency, IReadOnlyList<TransactionKind> Kinds, IReadOnlyList<TransactionState> States,
    DateTimeOffset? CreatedAfter, DateTimeOffset? CreatedBefore)
{
    /// <summary>What a page token is bound to, so a token of one filter is refused by another.</summary>
    public string[] Fingerprint() =>
        [UserId.ToString(), Currency, string.Join(',', Kinds), string.Join(',', States), CreatedAfter?.ToString("O") ?? "", CreatedBefore?.ToString("O") ?? ""];
}

/// <summary>Limits of listings and statements.</summary>
public static class HistoryRules
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    /// <summary>A statement lists at most this many transactions; a busier period must be asked for in parts.</summary>
    public const int MaxStatementTransactions = 10_000;

    public static readonly TimeSpan MaxStatementPeriod = TimeSpan.FromDays(366);

    /// <summary>The page size asked for (0: the default); a size out of range is recorded as a problem.</summary>
    public static int PageSize(Validator validator, string field, int size)
    {
        validator.Check(field, size is >= 0 and <= MaxPageSize, $"must be between 1 and {MaxPageSize} (0 for the default of {DefaultPageSize})");
        return size == 0 ? DefaultPageSize : size;
    }

    /// <summary>
    /// A period's end must follow its start; a statement's period is required and at most <see cref="MaxStatementPeriod"/>.
    /// </summary>
    public static Validator Period(this Validator validator, string startField, DateTimeOffset? start, string endField, DateTimeOffset? end, bool statement)
    {
        if (statement)
        {
            validator.Check(startField, start is not null, "is required").Check(endField, end is not null, "is required");
        }
        if (start is { } from && end is { } to)
        {
            validator.Check(endField, to > from, $"must be after {startField}");
            if (statement)
            {
                validator.Check(endField, to - from <= MaxStatementPeriod, $"must be at most {MaxStatementPeriod.TotalDays:0} days after {startField}");
            }
        }
        return validator;
    }

    /// <summary>FailedPrecondition for a statement period with more than <see cref="MaxStatementTransactions"/> transactions.</summary>
    public static void EnsureStatementSize(int transactions)
    {
        if (transactions > MaxStatementTransactions)
        {
            throw new FailedPreconditionException($"the period has more than {MaxStatementTransactions} transactions: ask for a shorter one", "STATEMENT_TOO_LARGE");
        }
    }
}
