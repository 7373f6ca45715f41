using Grpc.Core;
using Npgsql;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Testing.Sidecars;

namespace Ovasabi.Testing.Platform;

/// <summary>
/// The user, auth and finance apps (and <c>moreApps</c>, e.g. notification, which reacts to their events). Tests move money as
/// the administrator (<see cref="FinanceAsAdmin"/>), as signed-in users (<see cref="FinanceClient"/>) or as another app
/// (<see cref="FinanceClientAsAsync"/>); the subscriber receives every finance event.
/// </summary>
public class FinancePlatform(PostgresServer postgres, RedisServer redis, bool ownsServers = false, params string[] moreApps)
    : AppPlatform(postgres, redis, [UserAppId, AuthAppId, FinanceAppId, .. moreApps], ownsServers)
{
    public static readonly IReadOnlyList<string> FinanceTopics = TopicName.All<FinanceTopic>();

    public const string FinanceAppId = "finance";

    public string FinanceDatabase => Database(FinanceAppId);

    public SidecarProcess FinanceSidecar => Sidecar(FinanceAppId);

    public AppProcess FinanceApp => App(FinanceAppId);

    /// <summary>The finance API through the gateway, as <paramref name="accessToken"/>'s holder (anonymous when null).</summary>
    public FinanceService.FinanceServiceClient FinanceClient(string? accessToken = null) => new(Invoker(FinanceAppId, GatewaySidecar, accessToken));

    /// <summary>The finance API as the bootstrap administrator (who may post deposits and holds for anyone).</summary>
    public FinanceService.FinanceServiceClient FinanceAsAdmin() => FinanceClient(Admin.AccessToken);

    /// <summary>The finance API called by app <paramref name="appId"/> as itself (through its sidecar, no token).</summary>
    public async Task<FinanceService.FinanceServiceClient> FinanceClientAsAsync(string appId) => new(Invoker(FinanceAppId, await SidecarOfAsync(appId), null));

    /// <summary>A new active user (not signed in); returns its ID.</summary>
    public async Task<string> NewUserIdAsync() => (await CreateAccountAsync()).User.UserId;

    /// <summary>Deposits <paramref name="minorUnits"/> for <paramref name="userId"/> as the administrator.</summary>
    public async Task<Transaction> FundAsync(string userId, long minorUnits, string currency = "EUR") =>
        await FinanceAsAdmin().DepositAsync(new DepositRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(),
            UserId = userId,
            Amount = new Money { CurrencyCode = currency, MinorUnits = minorUnits },
        }, cancellationToken: Rpc.Cancel);

    /// <summary>Runs a query with one result on the finance database (straight to PostgreSQL, not through the app).</summary>
    public Task<T> FinanceScalarAsync<T>(string sql, params (string Name, object Value)[] parameters) =>
        PostgresServer.ScalarAsync<T>(FinanceDatabase, sql, parameters);

    /// <summary>
    /// The ledger's invariants, read from the database: the entries of each currency sum to zero, no user balance is
    /// negative, and each user account's balances equal the sum of its entries. Returns what is violated (empty when all hold).
    /// </summary>
    public async Task<IReadOnlyList<string>> LedgerViolationsAsync()
    {
        var violations = new List<string>();
        await using var connection = new NpgsqlConnection(FinanceDatabase);
        await connection.OpenAsync();
        async Task Collect(string what, string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                violations.Add($"{what}: {string.Join(", ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i)))}");
            }
        }
        await Collect("currency does not sum to zero", "SELECT currency, sum(amount) FROM service_finance_entry GROUP BY currency HAVING sum(amount) <> 0");
        await Collect("transaction does not sum to zero", "SELECT transaction_id, sum(amount) FROM service_finance_entry GROUP BY transaction_id HAVING sum(amount) <> 0");
        await Collect("negative balance", "SELECT id, available, held FROM service_finance_account WHERE kind = 0 AND (available < 0 OR held < 0)");
        await Collect("balance differs from its entries",
            "SELECT a.id, a.available, a.held, coalesce(sum(e.amount) FILTER (WHERE e.bucket = 0), 0), coalesce(sum(e.amount) FILTER (WHERE e.bucket = 1), 0) " +
            "FROM service_finance_account a LEFT JOIN service_finance_entry e ON e.account_id = a.id WHERE a.kind = 0 GROUP BY a.id " +
            "HAVING a.available <> coalesce(sum(e.amount) FILTER (WHERE e.bucket = 0), 0) OR a.held <> coalesce(sum(e.amount) FILTER (WHERE e.bucket = 1), 0)");
        return violations;
    }

    /// <summary>A client of the finance app's own gRPC port as the administrator, bypassing every sidecar.</summary>
    public FinanceService.FinanceServiceClient DirectFinance() => new(Direct(FinanceApp, Admin.AccessToken));

    /// <summary>The metadata a test sends to name its request in the audit log.</summary>
    public static Metadata RequestId(string id) => new() { { "x-request-id", id } };
}
