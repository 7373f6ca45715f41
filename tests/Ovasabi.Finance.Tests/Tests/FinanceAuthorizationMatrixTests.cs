using Ovasabi.Common.V1;
using Ovasabi.Finance.V1;
using Ovasabi.Testing.Platform;
using static Ovasabi.Testing.Platform.AuthorizationMatrix;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>
/// Every RPC of the finance service called by every kind of caller through the sidecars (see <see cref="AuthorizationMatrix"/>):
/// users move and read their own money, support reads, administrators do everything, and no app may call finance
/// (protos/ovasabi/access.yaml grants none). GetTransaction passes authorization for any signed-in user; whose it is
/// the handler decides, answering NotFound for someone else's.
/// </summary>
public sealed class FinanceAuthorizationMatrixTests(SharedFinancePlatform platform)
{
    private static Money Eur(long minorUnits) => new() { CurrencyCode = "EUR", MinorUnits = minorUnits };

    private static string Key() => Guid.NewGuid().ToString();

    private static Func<MatrixCaller, string, Task> Finance(Func<FinanceService.FinanceServiceClient, string, Task> call) =>
        (caller, target) => call(new FinanceService.FinanceServiceClient(caller.To("finance")), target);

    private static readonly Row[] Rows =
    [
        //                                                                                                  anon user own support admin | app: user auth finance notification
        new("ovasabi.finance.v1.FinanceService/GetBalance", Finance((c, t) => c.GetBalanceAsync(new GetBalanceRequest { UserId = t, CurrencyCode = "EUR" }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/Deposit", Finance((c, t) => c.DepositAsync(new DepositRequest { IdempotencyKey = Key(), UserId = t, Amount = Eur(1) }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/Withdraw", Finance((c, t) => c.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = t, Amount = Eur(1) }).ResponseAsync), [D, D, A, D, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/Transfer", Finance((c, t) => c.TransferAsync(new TransferRequest
        {
            IdempotencyKey = Key(), FromUserId = t, ToUserId = Guid.NewGuid().ToString(), Amount = Eur(1),
        }).ResponseAsync), [D, D, A, D, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/Hold", Finance((c, t) => c.HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = t, Amount = Eur(1) }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/Release", Finance((c, _) => c.ReleaseAsync(new ReleaseRequest { IdempotencyKey = Key(), HoldTransactionId = Key() }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/Capture", Finance((c, _) => c.CaptureAsync(new CaptureRequest { IdempotencyKey = Key(), HoldTransactionId = Key() }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/Reverse", Finance((c, _) => c.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = Key() }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/GetTransaction", Finance((c, _) => c.GetTransactionAsync(new GetTransactionRequest { TransactionId = Key() }).ResponseAsync), [D, A, A, A, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/ListTransactions", Finance((c, t) => c.ListTransactionsAsync(new ListTransactionsRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.finance.v1.FinanceService/GetStatement", Finance((c, t) => c.GetStatementAsync(new GetStatementRequest { UserId = t, CurrencyCode = "EUR" }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
    ];

    [Fact]
    public void The_matrix_lists_every_RPC_of_the_finance_service_with_one_outcome_per_caller() =>
        CoversEveryMethod(Rows, FinanceService.Descriptor);

    [Fact]
    public Task Every_RPC_allows_or_denies_each_kind_of_caller_as_the_table_says() => VerifyAsync(platform, Rows);
}
