using Npgsql;
using Ovasabi.Testing;
using Ovasabi.Testing.Sidecars;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>
/// Upgrading a database that already holds money with the app's <c>migrate</c> command: what the new schema derives
/// starts from what is there.
/// </summary>
public sealed class MigrationTests(SharedFinancePlatform platform)
{
    private const string FirstRelease = "20261124052043_InitialSchema";

    private const string KeysInBlocks = "20261207141148_KeysInBlocks";

    [Fact]
    public async Task Upgrading_keeps_todays_unreversed_sending_as_the_daily_total_and_hands_out_keys_above_the_old_ones()
    {
        var database = await platform.Postgres.CreateDatabaseAsync("finance_upgrade", Cancel);
        var (ada, bob) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        await MigrateAsync(database, FirstRelease);
        await ExecuteAsync(database, $$"""
            INSERT INTO master (uuid, type, name, version, is_active, created_at, updated_at)
            SELECT gen_random_uuid(), 'seed', 'seed', 1, true, now(), now() FROM generate_series(1, 5);
            INSERT INTO service_finance_account (master_id, kind, user_id, currency, available, held, version, updated_at, metadata)
            VALUES (1, 0, '{{ada}}', 'EUR', 0, 0, 1, now(), '{}'), (2, 0, '{{bob}}', 'EUR', 0, 0, 1, now(), '{}');
            INSERT INTO service_finance_transaction (master_id, type, status, user_id, counterparty_user_id, currency, amount,
                idempotency_scope, idempotency_key, request_hash, result, description, actor, created_at, metadata)
            VALUES (3, 3, 1, '{{ada}}', '{{bob}}', 'EUR', 300, 'seed', 'today', '\x00', '\x00', '', 'seed', now(), '{}'),
                   (4, 2, 3, '{{ada}}', NULL, 'EUR', 200, 'seed', 'reversed', '\x00', '\x00', '', 'seed', now(), '{}'),
                   (5, 3, 1, '{{ada}}', '{{bob}}', 'EUR', 500, 'seed', 'yesterday', '\x00', '\x00', '', 'seed', now() - interval '1 day', '{}');
            """);

        // A row keyed from a block, as the ledger of that release wrote them.
        await MigrateAsync(database, KeysInBlocks);
        await ExecuteAsync(database, $$"""
            INSERT INTO master (uuid, type, name, version, is_active, created_at, updated_at) VALUES (gen_random_uuid(), 'seed', 'seed', 1, true, now(), now());
            INSERT INTO service_finance_transaction (id, master_id, type, status, user_id, currency, amount,
                idempotency_scope, idempotency_key, request_hash, result, description, actor, created_at, metadata)
            VALUES (nextval('service_finance_transaction_keys') + 50, 6, 0, 1, '{{bob}}', 'EUR', 100, 'seed', 'block', '\x00', '\x00', '', 'seed', now(), '{}');
            """);

        await MigrateAsync(database);

        Assert.Equal($"{DateTime.UtcNow:yyyy-MM-dd} 300", await PostgresServer.ScalarAsync<string>(database,
            $"SELECT sent_on::text || ' ' || sent_total FROM service_finance_account WHERE user_id = '{ada}'"));
        Assert.Equal("none 0", await PostgresServer.ScalarAsync<string>(database,
            $"SELECT coalesce(sent_on::text, 'none') || ' ' || sent_total FROM service_finance_account WHERE user_id = '{bob}'"));
        foreach (var table in new[] { "transaction", "entry", "audit" })
        {
            var above = await PostgresServer.ScalarAsync<bool>(database,
                $"SELECT nextval(pg_get_serial_sequence('service_finance_{table}', 'id')) > coalesce((SELECT max(id) FROM service_finance_{table}), 0)");
            Assert.True(above, $"service_finance_{table} hands out a key at or below an existing one");
        }
    }

    [Fact]
    public async Task Migrating_to_a_migration_that_does_not_exist_fails_with_the_list_and_changes_nothing()
    {
        var database = await platform.Postgres.CreateDatabaseAsync("finance_unknown_target", Cancel);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => MigrateAsync(database, "20990101000000_Nothing"));

        Assert.Contains("there is no migration 20990101000000_Nothing", error.Message, StringComparison.Ordinal);
        Assert.Contains(FirstRelease, error.Message, StringComparison.Ordinal);
        Assert.False(await PostgresServer.ScalarAsync<bool>(database, "SELECT to_regclass('master') IS NOT NULL"));
    }

    /// <summary>The finance app's <c>migrate [target]</c>, as the chart's migration job runs it; throws unless it exits 0.</summary>
    private static Task<string> MigrateAsync(string database, string? target = null) =>
        ManagedProcess.RunAsync(new ProcessCommand("dotnet", [AppProcess.AssemblyOf("finance"), "migrate", .. target is null ? Array.Empty<string>() : [target]])
        {
            Name = "finance-migrate",
            Environment = new Dictionary<string, string?> { ["ConnectionStrings__Database"] = database },
        }, TimeSpan.FromSeconds(60), Cancel);

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
