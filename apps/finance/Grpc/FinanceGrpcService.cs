using Google.Protobuf;
using Grpc.Core;
using Ovasabi.Finance.Data;
using Ovasabi.Finance.Domain;
using Ovasabi.Finance.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Finance.Grpc;

/// <summary>
/// The finance API: checks the shape of each request, maps it to a domain movement or query and the answer back. Users
/// move their own money (withdraw, transfer) and read their own history; deposits, holds and their settlement come
/// from administrators; reversals are for administrators.
/// </summary>
public sealed class FinanceGrpcService(Ledger ledger, BalanceReader balances, Currencies currencies, TransactionHistory history) : FinanceService.FinanceServiceBase
{
    [Permission("finance.balances.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<Balance> GetBalance(GetBalanceRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        var currency = currencies.Find(validator, "currency_code", request.CurrencyCode);
        validator.ThrowIfInvalid();
        return await balances.GetAsync(userId, currency!, context.CancellationToken);
    }

    [Permission("finance.deposits.create", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override Task<Transaction> Deposit(DepositRequest request, ServerCallContext context)
    {
        var (userId, currency, amount) = Amount(context, request.IdempotencyKey, "user_id", request.UserId, request.Amount, request.Description);
        return PostAsync(new Deposit(userId, currency, amount, request.Description), context, request.IdempotencyKey, request);
    }

    [Permission("finance.withdrawals.create", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override Task<Transaction> Withdraw(WithdrawRequest request, ServerCallContext context)
    {
        var (userId, currency, amount) = Amount(context, request.IdempotencyKey, "user_id", request.UserId, request.Amount, request.Description);
        return PostAsync(new Withdrawal(userId, currency, amount, request.Description), context, request.IdempotencyKey, request);
    }

    [Permission("finance.transfers.create", Owner = "from_user_id", EmptyOwnerIsCaller = true)]
    public override Task<Transaction> Transfer(TransferRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var to = validator.Id("to_user_id", request.ToUserId);
        var (from, currency, amount) = Amount(context, request.IdempotencyKey, "from_user_id", request.FromUserId, request.Amount, request.Description, validator, to);
        return PostAsync(new Transfer(from, to, currency, amount, request.Description), context, request.IdempotencyKey, request);
    }

    [Permission("finance.holds.create", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override Task<Transaction> Hold(HoldRequest request, ServerCallContext context)
    {
        var (userId, currency, amount) = Amount(context, request.IdempotencyKey, "user_id", request.UserId, request.Amount, request.Description);
        return PostAsync(new Hold(userId, currency, amount, request.Description), context, request.IdempotencyKey, request);
    }

    [Permission("finance.holds.release")]
    public override Task<Transaction> Release(ReleaseRequest request, ServerCallContext context) =>
        PostAsync(new Settlement(Target(new Validator(), request.IdempotencyKey, "hold_transaction_id", request.HoldTransactionId), Capture: false),
            context, request.IdempotencyKey, request);

    [Permission("finance.holds.capture")]
    public override Task<Transaction> Capture(CaptureRequest request, ServerCallContext context) =>
        PostAsync(new Settlement(Target(new Validator(), request.IdempotencyKey, "hold_transaction_id", request.HoldTransactionId), Capture: true),
            context, request.IdempotencyKey, request);

    [Permission("finance.transactions.reverse")]
    public override Task<Transaction> Reverse(ReverseRequest request, ServerCallContext context) =>
        PostAsync(new Reversal(Target(new Validator().Description("reason", request.Reason), request.IdempotencyKey, "transaction_id", request.TransactionId),
            request.Reason), context, request.IdempotencyKey, request);

    [Permission("finance.transactions.read", OwnerCheckedByHandler = true)]
    public override async Task<Transaction> GetTransaction(GetTransactionRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("transaction_id", request.TransactionId);
        validator.ThrowIfInvalid();
        var found = await ledger.FindAsync(id, context.CancellationToken);
        var caller = context.GetCaller();
        // Someone else's transaction is reported missing, not forbidden: its existence is not the caller's business.
        if (found is null || !(caller.Allows("finance.transactions.read", found.UserId.ToString())
                               || (found.CounterpartyUserId is { } other && caller.Allows("finance.transactions.read", other.ToString()))))
        {
            throw new NotFoundException("transaction", request.TransactionId);
        }
        return FinanceMapping.Transaction(found);
    }

    [Permission("finance.transactions.list", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<ListTransactionsResponse> ListTransactions(ListTransactionsRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        if (request.CurrencyCode.Length > 0)
        {
            currencies.Find(validator, "currency_code", request.CurrencyCode);
        }
        var size = HistoryRules.PageSize(validator, "page.page_size", request.Page?.PageSize ?? 0);
        var filter = new TransactionFilter(userId, request.CurrencyCode, FinanceMapping.Kinds(validator, "transaction_types", request.TransactionTypes),
            FinanceMapping.States(validator, "statuses", request.Statuses), validator.Time("created_after", request.CreatedAfter), validator.Time("created_before", request.CreatedBefore));
        validator.Period("created_after", filter.CreatedAfter, "created_before", filter.CreatedBefore, statement: false).ThrowIfInvalid();
        var (transactions, next) = await history.ListAsync(filter, size, request.Page?.PageToken, context.CancellationToken);
        var response = new ListTransactionsResponse { Page = new Common.V1.PageResponse { NextPageToken = next } };
        response.Transactions.AddRange(transactions.Select(FinanceMapping.Transaction));
        return response;
    }

    [Permission("finance.statements.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<Statement> GetStatement(GetStatementRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        var currency = currencies.Find(validator, "currency_code", request.CurrencyCode);
        var (start, end) = (validator.Time("period_start", request.PeriodStart), validator.Time("period_end", request.PeriodEnd));
        validator.Period("period_start", start, "period_end", end, statement: true).ThrowIfInvalid();
        var statement = await history.StatementAsync(userId, currency!, start!.Value, end!.Value, context.CancellationToken);
        return FinanceMapping.Statement(statement, request.PeriodStart, request.PeriodEnd);
    }

    private async Task<Transaction> PostAsync(Movement movement, ServerCallContext context, string idempotencyKey, IMessage request)
    {
        var requestId = context.RequestHeaders.GetValue("x-request-id");
        var envelope = new RequestEnvelope(context.GetCaller().Actor, idempotencyKey, Idempotency.Fingerprint(context.Method, request.ToByteArray()),
            requestId is { Length: > 0 and <= 128 } ? requestId : null);
        return await ledger.PostAsync(movement, envelope, context.CancellationToken);
    }

    /// <summary>The checked inputs every new movement has: idempotency key, user, amount, description.</summary>
    private (Guid UserId, Currency Currency, long Amount) Amount(ServerCallContext context, string key, string userField, string user,
        Common.V1.Money? money, string description, Validator? validator = null, Guid? counterparty = null)
    {
        validator ??= new Validator();
        validator.IdempotencyKey("idempotency_key", key);
        var userId = context.GetCaller().TargetUser(validator, userField, user);
        if (counterparty is { } to)
        {
            validator.DistinctParties("to_user_id", userId, to, userField);
        }
        var (currency, amount) = currencies.Amount(validator, "amount", FinanceMapping.Input(money));
        validator.Description("description", description).ThrowIfInvalid();
        return (userId, currency!, amount);
    }

    /// <summary>The transaction a release, capture or reversal acts on, with the idempotency key checked.</summary>
    private static Guid Target(Validator validator, string key, string field, string value)
    {
        validator.IdempotencyKey("idempotency_key", key);
        var id = validator.Id(field, value);
        validator.ThrowIfInvalid();
        return id;
    }
}
