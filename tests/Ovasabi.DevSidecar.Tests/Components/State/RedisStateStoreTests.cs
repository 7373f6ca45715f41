using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.State;
using Ovasabi.Testing;
using StackExchange.Redis;
using static Ovasabi.DevSidecar.Tests.Components.State.StateStoreTestSupport;

namespace Ovasabi.DevSidecar.Tests.Components.State;

/// <summary>
/// state.redis against a real Redis. Every test gets its own key prefix; stored data is inspected with a separate
/// connection to check daprd's layout.
/// </summary>
public sealed class RedisStateStoreTests(RedisServer redis) : IAsyncLifetime
{
    private readonly string _prefix = $"test-app||{Guid.NewGuid():N}-";
    private readonly List<RedisStateStore> _stores = [];
    private RedisStateStore _store = null!;
    private ConnectionMultiplexer _redis = null!;

    private IDatabase Db => _redis.GetDatabase();

    public async ValueTask InitializeAsync()
    {
        _store = await CreateStoreAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Save_get_delete_round_trip_returns_the_bytes_with_etag_1_then_nothing()
    {
        var key = Key("round-trip");
        await _store.SetAsync(Save(key, "hello"), Ct);

        var entry = await _store.GetAsync(key, Ct);
        Assert.Equal("hello", Text(entry));
        Assert.Equal("1", entry!.ETag);
        Assert.Empty(entry.Metadata);

        await _store.DeleteAsync(Remove(key), Ct);
        Assert.Null(await _store.GetAsync(key, Ct));
        Assert.False(await Db.KeyExistsAsync(key));
    }

    [Fact]
    public async Task Get_of_a_missing_key_returns_null()
    {
        Assert.Null(await _store.GetAsync(Key("missing"), Ct));
    }

    [Fact]
    public void Features_are_etag_transactional_and_ttl()
    {
        Assert.Equal([StateFeatures.ETag, StateFeatures.Transactional, StateFeatures.Ttl], _store.Features);
    }

    [Fact]
    public async Task Every_write_increments_the_etag_by_one()
    {
        var key = Key("versions");
        await _store.SetAsync(Save(key, "a"), Ct);
        await _store.SetAsync(Save(key, "b"), Ct);
        await _store.SetAsync(Save(key, "c", etag: "2"), Ct);

        var entry = await _store.GetAsync(key, Ct);
        Assert.Equal("c", Text(entry));
        Assert.Equal("3", entry!.ETag);
    }

    [Fact]
    public async Task Save_with_a_stale_etag_throws_ETagMismatch_and_keeps_the_value()
    {
        var key = Key("stale-save");
        await _store.SetAsync(Save(key, "a"), Ct);
        await _store.SetAsync(Save(key, "b"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => _store.SetAsync(Save(key, "c", etag: "1"), Ct));

        var entry = await _store.GetAsync(key, Ct);
        Assert.Equal("b", Text(entry));
        Assert.Equal("2", entry!.ETag);
    }

    [Fact]
    public async Task Delete_with_a_stale_etag_throws_ETagMismatch_and_keeps_the_key()
    {
        var key = Key("stale-delete");
        await _store.SetAsync(Save(key, "a"), Ct);
        await _store.SetAsync(Save(key, "b"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => _store.DeleteAsync(Remove(key, etag: "1"), Ct));
        Assert.Equal("b", Text(await _store.GetAsync(key, Ct)));

        await _store.DeleteAsync(Remove(key, etag: "2"), Ct);
        Assert.Null(await _store.GetAsync(key, Ct));
    }

    [Fact]
    public async Task Save_with_a_non_numeric_etag_throws_ETagInvalid()
    {
        var key = Key("invalid-etag");
        await _store.SetAsync(Save(key, "a"), Ct);

        await Assert.ThrowsAsync<ETagInvalidException>(() => _store.SetAsync(Save(key, "b", etag: "not-a-number"), Ct));
        Assert.Equal("a", Text(await _store.GetAsync(key, Ct)));
    }

    [Fact]
    public async Task Delete_with_a_non_numeric_etag_is_a_mismatch_because_daprd_compares_it_as_text()
    {
        var key = Key("invalid-delete");
        await _store.SetAsync(Save(key, "a"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => _store.DeleteAsync(Remove(key, etag: "not-a-number"), Ct));
        Assert.NotNull(await _store.GetAsync(key, Ct));
    }

    [Theory]
    [InlineData("42")]
    [InlineData("-1")]
    public async Task Save_with_any_etag_on_a_missing_key_succeeds_with_etag_1(string etag)
    {
        var key = Key("etag-on-missing");
        await _store.SetAsync(Save(key, "a", etag: etag), Ct);

        Assert.Equal("1", (await _store.GetAsync(key, Ct))!.ETag);
    }

    [Fact]
    public async Task Save_with_etag_minus_1_on_an_existing_key_is_a_mismatch_so_it_only_creates()
    {
        // As daprd parses etags (strconv.Atoi), -1 is a valid etag no key ever has: the balance cache creates with it.
        var key = Key("etag-minus-1");
        await _store.SetAsync(Save(key, "a"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => _store.SetAsync(Save(key, "b", etag: "-1"), Ct));
        Assert.Equal("a", Text(await _store.GetAsync(key, Ct)));
    }

    [Fact]
    public async Task Delete_with_an_etag_on_a_missing_key_succeeds()
    {
        await _store.DeleteAsync(Remove(Key("delete-missing"), etag: "7"), Ct);
    }

    [Fact]
    public async Task Last_write_concurrency_ignores_a_stale_or_malformed_etag()
    {
        var key = Key("last-write");
        await _store.SetAsync(Save(key, "a"), Ct);
        await _store.SetAsync(Save(key, "b"), Ct);

        await _store.SetAsync(Save(key, "c", etag: "1", concurrency: StateConcurrency.LastWrite), Ct);
        await _store.SetAsync(Save(key, "d", etag: "x", concurrency: StateConcurrency.LastWrite), Ct);

        var entry = await _store.GetAsync(key, Ct);
        Assert.Equal("d", Text(entry));
        Assert.Equal("4", entry!.ETag);
    }

    [Fact]
    public async Task First_write_save_marks_the_key_so_later_saves_without_etag_fail_and_with_the_current_etag_pass()
    {
        var key = Key("first-write");
        await _store.SetAsync(Save(key, "a", concurrency: StateConcurrency.FirstWrite), Ct);
        Assert.Equal("0", (string?)await Db.HashGetAsync(key, "first-write"));

        var refused = await Assert.ThrowsAsync<StateStoreException>(() => _store.SetAsync(Save(key, "b"), Ct));
        Assert.IsNotType<ETagMismatchException>(refused);
        await Assert.ThrowsAsync<ETagMismatchException>(
            () => _store.SetAsync(Save(key, "b", etag: "7", concurrency: StateConcurrency.FirstWrite), Ct));

        await _store.SetAsync(Save(key, "c", etag: "1", concurrency: StateConcurrency.FirstWrite), Ct);
        var entry = await _store.GetAsync(key, Ct);
        Assert.Equal("c", Text(entry));
        Assert.Equal("2", entry!.ETag);
    }

    [Fact]
    public async Task Keys_never_saved_with_first_write_accept_saves_without_etag()
    {
        var key = Key("no-first-write");
        await _store.SetAsync(Save(key, "a"), Ct);
        await _store.SetAsync(Save(key, "b"), Ct);

        Assert.False(await Db.HashExistsAsync(key, "first-write"));
        Assert.Equal("b", Text(await _store.GetAsync(key, Ct)));
    }

    [Fact]
    public async Task Request_ttl_of_1_second_expires_the_key()
    {
        var key = Key("ttl");
        await _store.SetAsync(Save(key, "short-lived", ttl: "1"), Ct);
        var ttl = await Db.KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.Zero, TimeSpan.FromSeconds(1));

        await EventuallyAsync(async () => await _store.GetAsync(key, Ct) is null, "the key expired");
        Assert.False(await Db.KeyExistsAsync(key));
    }

    [Fact]
    public async Task Component_ttl_applies_by_default_and_request_ttl_minus_1_removes_the_expiry()
    {
        var store = await CreateStoreAsync(new() { ["ttlInSeconds"] = "100" });
        var key = Key("default-ttl");

        await store.SetAsync(Save(key, "a"), Ct);
        Assert.InRange((await Db.KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(100));

        await store.SetAsync(Save(key, "b", ttl: "-1"), Ct);
        Assert.Null(await Db.KeyTimeToLiveAsync(key));
        Assert.Equal("b", Text(await store.GetAsync(key, Ct)));
    }

    [Fact]
    public async Task Save_without_any_ttl_leaves_an_existing_expiry_alone_as_daprd_does()
    {
        var key = Key("keep-ttl");
        await _store.SetAsync(Save(key, "a", ttl: "100"), Ct);
        await _store.SetAsync(Save(key, "b"), Ct);

        Assert.NotNull(await Db.KeyTimeToLiveAsync(key));
    }

    [Fact]
    public async Task Non_integer_ttl_fails_the_save_without_writing()
    {
        var key = Key("bad-ttl");
        var error = await Assert.ThrowsAsync<StateStoreException>(() => _store.SetAsync(Save(key, "a", ttl: "soon"), Ct));

        Assert.Contains("ttlInSeconds", error.Message, StringComparison.Ordinal);
        Assert.False(await Db.KeyExistsAsync(key));
    }

    [Fact]
    public async Task Stored_layout_is_a_hash_with_the_raw_bytes_in_data_and_the_etag_in_version()
    {
        var key = Key("layout");
        byte[] value = [0, 1, 2, 255, 34];
        await _store.SetAsync(new StateSetRequest(key, value, null, StateConcurrency.Unspecified, StateConsistency.Unspecified, new Dictionary<string, string>()), Ct);
        await _store.SetAsync(new StateSetRequest(key, value, "1", StateConcurrency.Unspecified, StateConsistency.Unspecified, new Dictionary<string, string>()), Ct);

        Assert.Equal(RedisType.Hash, await Db.KeyTypeAsync(key));
        var fields = (await Db.HashGetAllAsync(key)).ToDictionary(f => f.Name.ToString(), f => f.Value);
        Assert.Equal(["data", "version"], fields.Keys.Order());
        Assert.Equal(value, (byte[])fields["data"]!);
        Assert.Equal("2", fields["version"].ToString());
        Assert.Equal(value, (await _store.GetAsync(key, Ct))!.Value);
    }

    [Fact]
    public async Task Legacy_string_value_is_read_without_etag_and_a_save_replaces_it_with_a_hash()
    {
        var key = Key("legacy");
        await Db.StringSetAsync(key, "old");

        var legacy = await _store.GetAsync(key, Ct);
        Assert.Equal("old", Text(legacy));
        Assert.Null(legacy!.ETag);

        await _store.SetAsync(Save(key, "new"), Ct);
        Assert.Equal(RedisType.Hash, await Db.KeyTypeAsync(key));
        var entry = await _store.GetAsync(key, Ct);
        Assert.Equal("new", Text(entry));
        Assert.Equal("1", entry!.ETag);
    }

    [Fact]
    public async Task Hash_without_a_version_field_is_reported_as_a_store_error()
    {
        var key = Key("broken");
        await Db.HashSetAsync(key, "data", "x");

        var error = await Assert.ThrowsAsync<StateStoreException>(() => _store.GetAsync(key, Ct));
        Assert.Contains("version", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transaction_applies_upserts_and_deletes_together()
    {
        var keep = Key("tx-keep");
        var drop = Key("tx-drop");
        await _store.SetAsync(Save(drop, "doomed"), Ct);
        await _store.SetAsync(Save(keep, "v1"), Ct);

        await _store.ExecuteTransactionAsync(
        [
            new StateUpsert(Save(keep, "v2", etag: "1")),
            new StateUpsert(Save(Key("tx-new"), "fresh", ttl: "100")),
            new StateDelete(Remove(drop, etag: "1")),
        ], Ct);

        var kept = await _store.GetAsync(keep, Ct);
        Assert.Equal("v2", Text(kept));
        Assert.Equal("2", kept!.ETag);
        Assert.Equal("fresh", Text(await _store.GetAsync(Key("tx-new"), Ct)));
        Assert.NotNull(await Db.KeyTimeToLiveAsync(Key("tx-new")));
        Assert.Null(await _store.GetAsync(drop, Ct));
    }

    [Fact]
    public async Task Transaction_with_a_stale_etag_keeps_the_other_operations_because_redis_has_no_rollback_and_throws()
    {
        var before = Key("tx-before");
        var stale = Key("tx-stale");
        var after = Key("tx-after");
        await _store.SetAsync(Save(stale, "s1"), Ct);
        await _store.SetAsync(Save(stale, "s2"), Ct);
        await _store.SetAsync(Save(after, "doomed"), Ct);

        var error = await Assert.ThrowsAsync<StateStoreException>(() => _store.ExecuteTransactionAsync(
        [
            new StateUpsert(Save(before, "written")),
            new StateUpsert(Save(stale, "lost", etag: "1")),
            new StateDelete(Remove(after)),
        ], Ct));

        Assert.IsNotType<ETagMismatchException>(error);
        Assert.Contains(stale, error.Message, StringComparison.Ordinal);
        Assert.Equal("written", Text(await _store.GetAsync(before, Ct)));
        Assert.Equal("s2", Text(await _store.GetAsync(stale, Ct)));
        Assert.Null(await _store.GetAsync(after, Ct));
    }

    [Fact]
    public async Task Transaction_with_a_malformed_etag_writes_nothing()
    {
        var first = Key("tx-invalid-first");

        await Assert.ThrowsAsync<ETagInvalidException>(() => _store.ExecuteTransactionAsync(
        [
            new StateUpsert(Save(first, "a")),
            new StateUpsert(Save(Key("tx-invalid-second"), "b", etag: "nope")),
        ], Ct));

        Assert.False(await Db.KeyExistsAsync(first));
    }

    [Fact]
    public async Task Redis_db_setting_selects_the_logical_database()
    {
        var store = await CreateStoreAsync(new() { ["redisDB"] = "3" });
        var key = Key("db3");
        await store.SetAsync(Save(key, "in three"), Ct);

        Assert.True(await _redis.GetDatabase(3).KeyExistsAsync(key));
        Assert.False(await Db.KeyExistsAsync(key));
        await store.DeleteAsync(Remove(key), Ct);
    }

    [Fact]
    public void Missing_redis_host_is_a_configuration_error_naming_file_and_field()
    {
        var error = Assert.Throws<ComponentConfigurationException>(
            () => new RedisStateStore(Definition("state.redis", "v1", new Dictionary<string, string>()), Context));

        Assert.Equal("redisHost", error.Field);
        Assert.Contains(SourceFile, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redisHost", "localhost:notaport")]
    [InlineData("redisDB", "-1")]
    [InlineData("ttlInSeconds", "forever")]
    public void Malformed_settings_are_configuration_errors(string field, string value)
    {
        var metadata = new Dictionary<string, string> { ["redisHost"] = "localhost", [field] = value };

        var error = Assert.Throws<ComponentConfigurationException>(
            () => new RedisStateStore(Definition("state.redis", "v1", metadata), Context));
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task Init_fails_with_a_store_error_when_nothing_listens()
    {
        await using var store = new RedisStateStore(
            Definition("state.redis", "v1", new Dictionary<string, string> { ["redisHost"] = $"127.0.0.1:{ClosedPort()}", ["dialTimeout"] = "1s" }), Context);

        await Assert.ThrowsAsync<StateStoreException>(() => store.InitAsync(Ct));
    }

    private string Key(string name) => _prefix + name;

    private async Task<RedisStateStore> CreateStoreAsync(Dictionary<string, string>? extra = null)
    {
        var metadata = new Dictionary<string, string>(extra ?? []) { ["redisHost"] = redis.Endpoint };
        var store = new RedisStateStore(Definition("state.redis", "v1", metadata), Context);
        _stores.Add(store);
        await store.InitAsync(Ct);
        return store;
    }
}
