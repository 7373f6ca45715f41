using System.Globalization;
using Npgsql;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.State;
using Ovasabi.Testing;
using static Ovasabi.DevSidecar.Tests.Components.State.StateStoreTestSupport;

namespace Ovasabi.DevSidecar.Tests.Components.State;

/// <summary>One database per test class, taken from the shared PostgreSQL server.</summary>
public sealed class PostgresStateDatabase(PostgresServer server) : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync() =>
        ConnectionString = await server.CreateDatabaseAsync("state_store", TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Behaviour both state.postgresql versions share, run by each version's test class against its own database.
/// Tests use unique keys; stored rows are inspected with plain SQL.
/// </summary>
public abstract class PostgresStateStoreTests(PostgresStateDatabase database) : IAsyncLifetime
{
    private readonly string _prefix = $"test-app||{Guid.NewGuid():N}-";
    private readonly List<PostgresStateStore> _stores = [];

    protected PostgresStateStore Store { get; private set; } = null!;

    protected string ConnectionString => database.ConnectionString;

    protected abstract string Version { get; }

    /// <summary>The prefix of the class's own state table (<c>&lt;prefix&gt;state</c>).</summary>
    protected abstract string TablePrefix { get; }

    protected string Table => TablePrefix + "state";

    protected abstract string ExpiryColumn { get; }

    /// <summary>A well-formed etag that belongs to no row.</summary>
    protected abstract string UnusedETag { get; }

    protected abstract string MigrationKey { get; }

    protected abstract string MigrationLevel { get; }

    private Dictionary<string, string> TableSettings => TableSettingsFor(TablePrefix);

    public async ValueTask InitializeAsync() => Store = await CreateStoreAsync(TableSettings);

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
    }

    /// <summary>Metadata that makes this version use the table <c>&lt;prefix&gt;state</c>.</summary>
    protected abstract Dictionary<string, string> TableSettingsFor(string prefix);

    [Fact]
    public async Task Save_get_delete_round_trip_returns_the_bytes_and_an_etag_then_nothing()
    {
        var key = Key("round-trip");
        await Store.SetAsync(Save(key, "hello"), Ct);

        var entry = await Store.GetAsync(key, Ct);
        Assert.Equal("hello", Text(entry));
        Assert.False(string.IsNullOrEmpty(entry!.ETag));
        Assert.Empty(entry.Metadata);

        await Store.DeleteAsync(Remove(key), Ct);
        Assert.Null(await Store.GetAsync(key, Ct));
        Assert.Null(await RowAsync(key));
    }

    [Fact]
    public async Task Get_of_a_missing_key_returns_null()
    {
        Assert.Null(await Store.GetAsync(Key("missing"), Ct));
    }

    [Fact]
    public void Features_are_etag_transactional_and_ttl()
    {
        Assert.Equal([StateFeatures.ETag, StateFeatures.Transactional, StateFeatures.Ttl], Store.Features);
    }

    [Fact]
    public async Task Every_write_changes_the_etag_and_the_previous_one_goes_stale()
    {
        var key = Key("etags");
        await Store.SetAsync(Save(key, "a"), Ct);
        var first = (await Store.GetAsync(key, Ct))!.ETag!;

        await Store.SetAsync(Save(key, "b", etag: first), Ct);
        var second = (await Store.GetAsync(key, Ct))!.ETag!;

        Assert.NotEqual(first, second);
        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.SetAsync(Save(key, "c", etag: first), Ct));
        Assert.Equal("b", Text(await Store.GetAsync(key, Ct)));
    }

    [Fact]
    public async Task Delete_with_a_stale_etag_throws_ETagMismatch_and_with_the_current_one_deletes()
    {
        var key = Key("stale-delete");
        await Store.SetAsync(Save(key, "a"), Ct);
        var stale = (await Store.GetAsync(key, Ct))!.ETag!;
        await Store.SetAsync(Save(key, "b"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.DeleteAsync(Remove(key, etag: stale), Ct));
        Assert.Equal("b", Text(await Store.GetAsync(key, Ct)));

        await Store.DeleteAsync(Remove(key, etag: (await Store.GetAsync(key, Ct))!.ETag), Ct);
        Assert.Null(await RowAsync(key));
    }

    [Fact]
    public async Task Save_with_an_etag_on_a_missing_key_is_a_mismatch_because_it_only_updates()
    {
        var key = Key("etag-on-missing");

        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.SetAsync(Save(key, "a", etag: UnusedETag), Ct));
        Assert.Null(await RowAsync(key));
    }

    [Fact]
    public async Task Delete_with_an_etag_on_a_missing_key_is_a_mismatch()
    {
        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.DeleteAsync(Remove(Key("delete-missing"), etag: UnusedETag), Ct));
    }

    [Fact]
    public async Task First_write_without_etag_inserts_a_new_key_but_refuses_an_existing_one()
    {
        var key = Key("first-write");
        await Store.SetAsync(Save(key, "a", concurrency: StateConcurrency.FirstWrite), Ct);

        var refused = await Assert.ThrowsAsync<StateStoreException>(
            () => Store.SetAsync(Save(key, "b", concurrency: StateConcurrency.FirstWrite), Ct));
        Assert.IsNotType<ETagMismatchException>(refused);
        Assert.Equal("a", Text(await Store.GetAsync(key, Ct)));

        var etag = (await Store.GetAsync(key, Ct))!.ETag;
        await Store.SetAsync(Save(key, "c", etag: etag, concurrency: StateConcurrency.FirstWrite), Ct);
        Assert.Equal("c", Text(await Store.GetAsync(key, Ct)));
    }

    [Fact]
    public async Task First_write_replaces_a_row_that_has_expired_but_is_not_cleaned_up_yet()
    {
        var key = Key("first-write-expired");
        await Store.SetAsync(Save(key, "old", ttl: "1"), Ct);
        await EventuallyAsync(async () => await Store.GetAsync(key, Ct) is null, "the row expired");

        await Store.SetAsync(Save(key, "new", concurrency: StateConcurrency.FirstWrite), Ct);

        Assert.Equal("new", Text(await Store.GetAsync(key, Ct)));
        Assert.Null((await RowAsync(key))![ExpiryColumn]);
    }

    [Fact]
    public async Task Ttl_of_1_second_reports_ttlExpireTime_then_hides_the_row_until_cleanup()
    {
        var key = Key("ttl");
        var before = DateTime.UtcNow.AddSeconds(-1);
        await Store.SetAsync(Save(key, "short-lived", ttl: "1"), Ct);

        var entry = await Store.GetAsync(key, Ct);
        var expires = DateTime.ParseExact(
            entry!.Metadata["ttlExpireTime"], "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        Assert.True(expires > before, $"expiry {expires:O} should follow the save");

        await EventuallyAsync(async () => await Store.GetAsync(key, Ct) is null, "the row is hidden");
        Assert.NotNull(await RowAsync(key));
    }

    [Fact]
    public async Task Ttl_minus_1_means_no_expiry_and_a_save_without_ttl_clears_an_earlier_one()
    {
        var key = Key("no-expiry");
        await Store.SetAsync(Save(key, "a", ttl: "100"), Ct);
        Assert.NotNull((await RowAsync(key))![ExpiryColumn]);

        await Store.SetAsync(Save(key, "b", ttl: "-1"), Ct);
        Assert.Null((await RowAsync(key))![ExpiryColumn]);
        Assert.False((await Store.GetAsync(key, Ct))!.Metadata.ContainsKey("ttlExpireTime"));

        await Store.SetAsync(Save(key, "c", ttl: "100"), Ct);
        await Store.SetAsync(Save(key, "d"), Ct);
        Assert.Null((await RowAsync(key))![ExpiryColumn]);
    }

    [Theory]
    [InlineData("-2")]
    [InlineData("soon")]
    public async Task Ttl_below_minus_1_or_not_an_integer_fails_the_save(string ttl)
    {
        var key = Key("bad-ttl");

        var error = await Assert.ThrowsAsync<StateStoreException>(() => Store.SetAsync(Save(key, "a", ttl: ttl), Ct));
        Assert.Contains("ttlInSeconds", error.Message, StringComparison.Ordinal);
        Assert.Null(await RowAsync(key));
    }

    [Fact]
    public async Task Transaction_commits_upserts_and_deletes_together()
    {
        var update = Key("tx-update");
        var drop = Key("tx-drop");
        var insert = Key("tx-insert");
        await Store.SetAsync(Save(update, "v1"), Ct);
        await Store.SetAsync(Save(drop, "doomed"), Ct);
        var updateETag = (await Store.GetAsync(update, Ct))!.ETag;
        var dropETag = (await Store.GetAsync(drop, Ct))!.ETag;

        await Store.ExecuteTransactionAsync(
        [
            new StateUpsert(Save(update, "v2", etag: updateETag)),
            new StateUpsert(Save(insert, "fresh", ttl: "100")),
            new StateDelete(Remove(drop, etag: dropETag)),
        ], Ct);

        Assert.Equal("v2", Text(await Store.GetAsync(update, Ct)));
        Assert.Equal("fresh", Text(await Store.GetAsync(insert, Ct)));
        Assert.NotNull((await RowAsync(insert))![ExpiryColumn]);
        Assert.Null(await RowAsync(drop));
    }

    [Fact]
    public async Task Transaction_with_a_stale_etag_rolls_every_operation_back_and_rethrows_the_mismatch()
    {
        var before = Key("tx-before");
        var stale = Key("tx-stale");
        var after = Key("tx-after");
        await Store.SetAsync(Save(stale, "s1"), Ct);
        var staleETag = (await Store.GetAsync(stale, Ct))!.ETag;
        await Store.SetAsync(Save(stale, "s2"), Ct);
        await Store.SetAsync(Save(after, "kept"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.ExecuteTransactionAsync(
        [
            new StateUpsert(Save(before, "rolled back")),
            new StateDelete(Remove(after)),
            new StateUpsert(Save(stale, "lost", etag: staleETag)),
        ], Ct));

        Assert.Null(await RowAsync(before));
        Assert.Equal("kept", Text(await Store.GetAsync(after, Ct)));
        Assert.Equal("s2", Text(await Store.GetAsync(stale, Ct)));
    }

    [Fact]
    public async Task Init_records_the_daprd_migration_level_in_the_metadata_table()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand("SELECT value FROM dapr_metadata WHERE key = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = MigrationKey });

        Assert.Equal(MigrationLevel, await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Several_sidecars_initialising_at_once_create_the_tables_once_and_all_start()
    {
        var settings = new Dictionary<string, string>(TableSettingsFor("race_")) { ["metadataTableName"] = "race_metadata" };

        var stores = Enumerable.Range(0, 6).Select(_ => Track(new PostgresStateStore(Definition("state.postgresql", Version, Settings(settings)), Context))).ToList();
        await Task.WhenAll(stores.Select(store => store.InitAsync(Ct)));

        var key = Key("race");
        await stores[0].SetAsync(Save(key, "visible to all"), Ct);
        foreach (var store in stores)
        {
            Assert.Equal("visible to all", Text(await store.GetAsync(key, Ct)));
        }
    }

    [Fact]
    public async Task Background_cleanup_deletes_expired_rows_and_records_when_it_ran()
    {
        var settings = new Dictionary<string, string>(TableSettingsFor("cleanup_"))
        {
            ["metadataTableName"] = "cleanup_metadata",
            ["cleanupInterval"] = "1s",
        };
        var store = await CreateStoreAsync(settings);
        var key = Key("cleaned");
        await store.SetAsync(Save(key, "expires", ttl: "1"), Ct);
        var live = Key("live");
        await store.SetAsync(Save(live, "stays"), Ct);
        await EventuallyAsync(async () => await RowAsync(key, "cleanup_state") is null, "the cleanup removed the expired row");

        Assert.NotNull(await RowAsync(live, "cleanup_state"));
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM cleanup_metadata WHERE key LIKE 'last-cleanup%'", connection);
        Assert.Equal(1L, await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Libpq_keyword_and_url_connection_strings_from_daprd_components_connect()
    {
        var native = new NpgsqlConnectionStringBuilder(ConnectionString);
        var password = string.IsNullOrEmpty(native.Password) ? "" : $" password='{native.Password.Replace("'", "\\'", StringComparison.Ordinal)}'";
        var keywords = $"host={native.Host} port={native.Port} user={native.Username}{password} dbname={native.Database} sslmode=disable";
        var userInfo = Uri.EscapeDataString(native.Username!) + (string.IsNullOrEmpty(native.Password) ? "" : ":" + Uri.EscapeDataString(native.Password));
        var url = $"postgres://{userInfo}@{native.Host}:{native.Port}/{native.Database}?sslmode=disable&application_name=state-tests";

        foreach (var connectionString in new[] { keywords, url })
        {
            var settings = new Dictionary<string, string>(TableSettings) { ["connectionString"] = connectionString };
            var store = await CreateStoreAsync(settings);
            var key = Key("dsn");
            await store.SetAsync(Save(key, connectionString), Ct);
            Assert.Equal(connectionString, Text(await Store.GetAsync(key, Ct)));
        }
    }

    [Fact]
    public async Task Init_fails_with_a_store_error_when_nothing_listens()
    {
        await using var store = new PostgresStateStore(
            Definition("state.postgresql", Version, new Dictionary<string, string>
            {
                ["connectionString"] = $"host=127.0.0.1 port={ClosedPort()} user=postgres dbname=postgres",
                ["timeout"] = "2s",
            }),
            Context);

        await Assert.ThrowsAsync<StateStoreException>(() => store.InitAsync(Ct));
    }

    [Theory]
    [InlineData("connectionString", "")]
    [InlineData("connectionString", "host=localhost bogus_option=1")]
    [InlineData("tableName", "state; DROP TABLE state")]
    [InlineData("tablePrefix", "bad-prefix")]
    [InlineData("metadataTableName", "a.b.c")]
    [InlineData("timeout", "500ms")]
    [InlineData("cleanupInterval", "often")]
    public void Malformed_settings_are_configuration_errors_naming_the_field(string field, string value)
    {
        var settings = new Dictionary<string, string>(TableSettings) { ["connectionString"] = "host=localhost", [field] = value };
        var version = field == "tablePrefix" ? "v2" : field == "tableName" ? "v1" : Version;

        var error = Assert.Throws<ComponentConfigurationException>(
            () => new PostgresStateStore(Definition("state.postgresql", version, settings), Context));

        Assert.Equal(field, error.Field);
        Assert.Contains(SourceFile, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_component_version_is_a_configuration_error()
    {
        Assert.Throws<ComponentConfigurationException>(
            () => new PostgresStateStore(Definition("state.postgresql", "v3", new Dictionary<string, string> { ["connectionString"] = "host=localhost" }), Context));
    }

    protected string Key(string name) => _prefix + name;

    protected async Task<PostgresStateStore> CreateStoreAsync(Dictionary<string, string> settings)
    {
        var store = Track(new PostgresStateStore(Definition("state.postgresql", Version, Settings(settings)), Context));
        await store.InitAsync(Ct);
        return store;
    }

    /// <summary>The stored row by key, expired or not, with every column; xmin is added as text.</summary>
    protected async Task<Dictionary<string, object?>?> RowAsync(string key, string? table = null)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT *, xmin::text AS xmin_text FROM {table ?? Table} WHERE key = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var reader = await command.ExecuteReaderAsync(Ct);
        if (!await reader.ReadAsync(Ct))
        {
            return null;
        }
        return Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, i => reader.IsDBNull(i) ? null : reader.GetValue(i));
    }

    protected async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(Ct);
        return connection;
    }

    private Dictionary<string, string> Settings(Dictionary<string, string> settings) =>
        new(settings) { ["connectionString"] = settings.GetValueOrDefault("connectionString", ConnectionString) };

    private PostgresStateStore Track(PostgresStateStore store)
    {
        _stores.Add(store);
        return store;
    }
}
