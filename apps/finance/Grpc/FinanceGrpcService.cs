using Google.Protobuf;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Finance.Data;
using Ovasabi.Finance.Domain;
using Ovasabi.Finance.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Finance.Grpc;

/// <summary>
/// The finance API. Users move their own money (withdraw, transfer) and read their own history; deposits, holds and
/// their settlement come from administrators and other services (payment gateways, quotes, referral rewards), which
/// may act for any user; reversals are for administrators.
/// </summary>
public sealed class FinanceGrpcService(
    FinanceDbContext db,
    Ledger ledger,
    BalanceReader balances,
    Currencies currencies,
    UserDirectory users,
    TransactionHistory history) : FinanceService.FinanceServiceBase
{
    private const int MaxDescription = 500;

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
        var (userId, currency, amount) = Movement(context, request.IdempotencyKey, "user_id", request.UserId, request.Amount, request.Description);
        return ledger.RunAsync(new Command(context, request.IdempotencyKey, request, currency, [userId]), ct => users.EnsureActiveAsync([userId], ct), posting =>
        {
            posting.FromOutside(userId, amount);
            return Task.FromResult(posting.Record(TransactionType.Deposit, userId, amount, request.Description));
        });
    }

    [Permission("finance.withdrawals.create", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override Task<Transaction> Withdraw(WithdrawRequest request, ServerCallContext context)
    {
        var (userId, currency, amount) = Movement(context, request.IdempotencyKey, "user_id", request.UserId, request.Amount, request.Description);
        return ledger.RunAsync(new Command(context, request.IdempotencyKey, request, currency, [userId]), ct => users.EnsureActiveAsync([userId], ct), async posting =>
        {
            await posting.EnsureWithinDailyLimitAsync(userId, amount);
            posting.ToOutside(userId, amount);
            return posting.Record(TransactionType.Withdrawal, userId, amount, request.Description);
        });
    }

    [Permission("finance.transfers.create", Owner = "from_user_id", EmptyOwnerIsCaller = true)]
    public override Task<Transaction> Transfer(TransferRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var to = validator.Id("to_user_id", request.ToUserId);
        var (from, currency, amount) = Movement(context, request.IdempotencyKey, "from_user_id", request.FromUserId, request.Amount, request.Description, validator);
        if (from == to)
        {
            throw new InvalidArgumentException("to_user_id", "must differ from from_user_id: a transfer to oneself moves nothing");
        }
        return ledger.RunAsync(new Command(context, request.IdempotencyKey, request, currency, [from, to]), ct => users.EnsureActiveAsync([from, to], ct), async posting =>
        {
            await posting.EnsureWithinDailyLimitAsync(from, amount);
            posting.Between(from, Bucket.Available, to, Bucket.Available, amount);
            return posting.Record(TransactionType.Transfer, from, amount, request.Description, counterparty: to);
        });
    }

    [Permission("finance.holds.create", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override Task<Transaction> Hold(HoldRequest request, ServerCallContext context)
    {
        var (userId, currency, amount) = Movement(context, request.IdempotencyKey, "user_id", request.UserId, request.Amount, request.Description);
        return ledger.RunAsync(new Command(context, request.IdempotencyKey, request, currency, [userId]), ct => users.EnsureActiveAsync([userId], ct), posting =>
        {
            posting.Between(userId, Bucket.Available, userId, Bucket.Held, amount);
            return Task.FromResult(posting.Record(TransactionType.Hold, userId, amount, request.Description));
        });
    }

    [Permission("finance.holds.release")]
    public override Task<Transaction> Release(ReleaseRequest request, ServerCallContext context) =>
        Settle(context, request.IdempotencyKey, request, "hold_transaction_id", request.HoldTransactionId, TransactionType.Release);

    [Permission("finance.holds.capture")]
    public override Task<Transaction> Capture(CaptureRequest request, ServerCallContext context) =>
        Settle(context, request.IdempotencyKey, request, "hold_transaction_id", request.HoldTransactionId, TransactionType.Capture);

    [Permission("finance.transactions.reverse")]
    public override async Task<Transaction> Reverse(ReverseRequest request, ServerCallContext context)
    {
        var validator = new Validator().MaxLength("reason", request.Reason, MaxDescription);
        var original = await RelatedAsync(validator, request.IdempotencyKey, "transaction_id", request.TransactionId, context.CancellationToken);
        if (original.Type is not (TransactionType.Deposit or TransactionType.Withdrawal or TransactionType.Transfer))
        {
            throw new FailedPreconditionException($"a {original.Type.ToString().ToLowerInvariant()} cannot be reversed; only deposits, withdrawals and transfers can", "NOT_REVERSIBLE");
        }
        var involved = original.CounterpartyUserId is { } counterparty ? new[] { original.UserId, counterparty } : [original.UserId];
        return await ledger.RunAsync(new Command(context, request.IdempotencyKey, request, currencies.Get(original.Currency), involved), _ => Task.CompletedTask, async posting =>
        {
            var locked = await posting.LockTransactionAsync(original.Id);
            if (locked.Status != TransactionStatus.Completed)
            {
                throw new FailedPreconditionException($"transaction {request.TransactionId} is already {locked.Status.ToString().ToLowerInvariant()}", "ALREADY_REVERSED");
            }
            posting.ChangeStatus(locked, TransactionStatus.Reversed);
            switch (locked.Type)
            {
                case TransactionType.Deposit:
                    posting.ToOutside(locked.UserId, locked.Amount);
                    break;
                case TransactionType.Withdrawal:
                    posting.FromOutside(locked.UserId, locked.Amount);
                    break;
                default:
                    posting.Between(locked.CounterpartyUserId!.Value, Bucket.Available, locked.UserId, Bucket.Available, locked.Amount);
                    break;
            }
            return posting.Record(TransactionType.Reversal, locked.UserId, locked.Amount, request.Reason, locked.CounterpartyUserId, locked);
        });
    }

    [Permission("finance.transactions.read", OwnerCheckedByHandler = true)]
    public override async Task<Transaction> GetTransaction(GetTransactionRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("transaction_id", request.TransactionId);
        validator.ThrowIfInvalid();
        var record = await db.Transactions.AsNoTracking().Include(t => t.Master).Include(t => t.Related!.Master)
            .FirstOrDefaultAsync(t => t.Master.Uuid == id, context.CancellationToken);
        var caller = context.GetCaller();
        // Someone else's transaction is reported missing, not forbidden: its existence is not the caller's business.
        if (record is null || !(caller.Allows("finance.transactions.read", record.UserId.ToString())
                                || (record.CounterpartyUserId is { } other && caller.Allows("finance.transactions.read", other.ToString()))))
        {
            throw new NotFoundException("transaction", request.TransactionId);
        }
        return Ledger.ToProto(record);
    }

    [Permission("finance.transactions.list", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override Task<ListTransactionsResponse> ListTransactions(ListTransactionsRequest request, ServerCallContext context) =>
        history.ListAsync(request, context.GetCaller(), context.CancellationToken);

    [Permission("finance.statements.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override Task<Statement> GetStatement(GetStatementRequest request, ServerCallContext context) =>
        history.StatementAsync(request, context.GetCaller(), context.CancellationToken);

    /// <summary>Releases or captures a hold, once.</summary>
    private async Task<Transaction> Settle(ServerCallContext context, string key, IMessage request, string field, string holdId, TransactionType type)
    {
        var hold = await RelatedAsync(new Validator(), key, field, holdId, context.CancellationToken);
        if (hold.Type != TransactionType.Hold)
        {
            throw new FailedPreconditionException($"transaction {holdId} is a {hold.Type.ToString().ToLowerInvariant()}, not a hold", "NOT_A_HOLD");
        }
        return await ledger.RunAsync(new Command(context, key, request, currencies.Get(hold.Currency), [hold.UserId]), _ => Task.CompletedTask, async posting =>
        {
            var locked = await posting.LockTransactionAsync(hold.Id);
            if (locked.Status != TransactionStatus.Completed)
            {
                throw new FailedPreconditionException($"hold {holdId} was already released or captured", "HOLD_SETTLED");
            }
            posting.ChangeStatus(locked, TransactionStatus.Settled);
            if (type == TransactionType.Release)
            {
                posting.Between(locked.UserId, Bucket.Held, locked.UserId, Bucket.Available, locked.Amount);
            }
            else
            {
                posting.ToRevenue(locked.UserId, locked.Amount);
            }
            return posting.Record(type, locked.UserId, locked.Amount, "", related: locked);
        });
    }

    /// <summary>The transaction a release, capture or reversal acts on (read without a lock; the posting locks it).</summary>
    private async Task<LedgerTransaction> RelatedAsync(Validator validator, string key, string field, string value, CancellationToken cancellationToken)
    {
        IdempotencyKey(validator, key);
        var id = validator.Id(field, value);
        validator.ThrowIfInvalid();
        return await db.Transactions.AsNoTracking().Include(t => t.Master).FirstOrDefaultAsync(t => t.Master.Uuid == id, cancellationToken)
               ?? throw new NotFoundException("transaction", value);
    }

    /// <summary>The checked inputs every movement has: idempotency key, user, amount, description.</summary>
    private (Guid UserId, Currency Currency, long Amount) Movement(
        ServerCallContext context, string key, string userField, string user, Ovasabi.Common.V1.Money? money, string description, Validator? validator = null)
    {
        validator ??= new Validator();
        IdempotencyKey(validator, key);
        var userId = context.GetCaller().TargetUser(validator, userField, user);
        var (currency, amount) = currencies.Amount(validator, "amount", money);
        validator.MaxLength("description", description, MaxDescription);
        validator.ThrowIfInvalid();
        return (userId, currency!, amount);
    }

    private static void IdempotencyKey(Validator validator, string key)
    {
        validator.Required("idempotency_key", key).MaxLength("idempotency_key", key, 128)
            .Check("idempotency_key", key.All(c => c is > ' ' and <= '~'), "must be printable ASCII without spaces (e.g. a UUID)");
    }
}
