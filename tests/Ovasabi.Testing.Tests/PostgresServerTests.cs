using Npgsql;

namespace Ovasabi.Testing.Tests;

public sealed class PostgresServerTests(PostgresServer postgres)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Starts_on_a_loopback_port_and_answers_a_query_as_the_superuser()
    {
        Assert.Equal("127.0.0.1", postgres.Host);
        Assert.InRange(postgres.Port, 1, 65535);

        var version = await ScalarAsync<string>(postgres.AdminConnectionString, "SHOW server_version");
        var user = await ScalarAsync<string>(postgres.AdminConnectionString, "SELECT current_user");

        Assert.StartsWith("15.", version);
        Assert.Equal("postgres", user);
    }

    [Fact]
    public async Task Runs_with_the_fast_test_settings_and_300_connections()
    {
        Assert.Equal("off", await ScalarAsync<string>(postgres.AdminConnectionString, "SHOW fsync"));
        Assert.Equal("off", await ScalarAsync<string>(postgres.AdminConnectionString, "SHOW synchronous_commit"));
        Assert.Equal("off", await ScalarAsync<string>(postgres.AdminConnectionString, "SHOW full_page_writes"));
        Assert.Equal("300", await ScalarAsync<string>(postgres.AdminConnectionString, "SHOW max_connections"));
    }

    [Fact]
    public async Task CreateDatabaseAsync_gives_two_isolated_databases_with_unique_names()
    {
        var first = await postgres.CreateDatabaseAsync("Orders Tests", Cancellation);
        var second = await postgres.CreateDatabaseAsync("Orders Tests", Cancellation);

        await ExecuteAsync(first, "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'only in first')");

        var firstName = new NpgsqlConnectionStringBuilder(first).Database!;
        var secondName = new NpgsqlConnectionStringBuilder(second).Database!;
        Assert.NotEqual(firstName, secondName);
        Assert.StartsWith("orders_tests_", firstName);
        Assert.Equal("only in first", await ScalarAsync<string>(first, "SELECT name FROM items WHERE id = 1"));
        Assert.Null(await ScalarAsync<string>(second, "SELECT to_regclass('items')::text"));
    }

    [Fact]
    public async Task Stop_then_start_keeps_the_data_and_the_port()
    {
        await using var server = new PostgresServer();
        await server.InitializeAsync();
        var database = await server.CreateDatabaseAsync("restart", Cancellation);
        await ExecuteAsync(database, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('survives a restart')");
        var port = server.Port;

        await server.StopAsync(Cancellation);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ScalarAsync<string>(database, "SELECT 1::text"));
        await server.StartAsync(Cancellation);

        Assert.Equal(port, server.Port);
        Assert.Equal("survives a restart", await ScalarAsync<string>(database, "SELECT value FROM kept"));
    }

    [Fact]
    public async Task Pooled_queries_work_again_after_a_restart_without_handing_out_a_dead_connection()
    {
        await using var server = new PostgresServer();
        await server.InitializeAsync();
        var database = await server.CreateDatabaseAsync("pooled", Cancellation);
        Assert.Equal(1, await PostgresServer.ScalarAsync<int>(database, "SELECT 1"));

        await server.StopAsync(Cancellation);
        await server.StartAsync(Cancellation);

        Assert.Equal(2, await PostgresServer.ScalarAsync<int>(database, "SELECT 2"));
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = await OpenUnpooledAsync(connectionString);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancellation);
    }

    private static async Task<T?> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = await OpenUnpooledAsync(connectionString);
        await using var command = new NpgsqlCommand(sql, connection);
        var result = await command.ExecuteScalarAsync(Cancellation);
        return result is DBNull ? default : (T?)result;
    }

    // Unpooled so that no connection from before a restart is handed out again.
    private static async Task<NpgsqlConnection> OpenUnpooledAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(Cancellation);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
