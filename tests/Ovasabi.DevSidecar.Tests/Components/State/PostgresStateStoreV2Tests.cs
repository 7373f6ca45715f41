using Ovasabi.DevSidecar.Components;
using static Ovasabi.DevSidecar.Tests.Components.State.StateStoreTestSupport;

namespace Ovasabi.DevSidecar.Tests.Components.State;

/// <summary>state.postgresql v2: bytea values, uuid etags, table <c>&lt;tablePrefix&gt;state</c>.</summary>
public sealed class PostgresStateStoreV2Tests(PostgresStateDatabase database)
    : PostgresStateStoreTests(database), IClassFixture<PostgresStateDatabase>
{
    protected override string Version => "v2";

    protected override string TablePrefix => "app_";

    protected override string ExpiryColumn => "expires_at";

    protected override string UnusedETag => Guid.NewGuid().ToString();

    protected override string MigrationKey => "migrations-state-v2-app_";

    protected override string MigrationLevel => "1";

    protected override Dictionary<string, string> TableSettingsFor(string prefix) => new() { ["tablePrefix"] = prefix };

    [Fact]
    public async Task Malformed_uuid_etag_is_a_mismatch_on_save_and_delete()
    {
        var key = Key("malformed-etag");
        await Store.SetAsync(Save(key, "a"), Ct);

        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.SetAsync(Save(key, "b", etag: "not-a-uuid"), Ct));
        await Assert.ThrowsAsync<ETagMismatchException>(() => Store.DeleteAsync(Remove(key, etag: "42"), Ct));
        Assert.Equal("a", Text(await Store.GetAsync(key, Ct)));
    }

    [Fact]
    public async Task Value_is_stored_as_raw_bytea_and_the_etag_is_the_rows_uuid_renewed_on_each_write()
    {
        var key = Key("layout");
        byte[] value = [0, 1, 2, 254, 255];
        await Store.SetAsync(new StateSetRequest(key, value, null, StateConcurrency.Unspecified, StateConsistency.Unspecified, new Dictionary<string, string>()), Ct);

        var row = (await RowAsync(key))!;
        Assert.Equal(["created_at", "etag", "expires_at", "key", "updated_at", "value", "xmin_text"], row.Keys.Order());
        Assert.Equal(value, row["value"]);
        Assert.Null(row["updated_at"]);
        var entry = (await Store.GetAsync(key, Ct))!;
        Assert.Equal(value, entry.Value);
        Assert.Equal(((Guid)row["etag"]!).ToString(), entry.ETag);

        await Store.SetAsync(Save(key, "again", etag: entry.ETag), Ct);
        var updated = (await RowAsync(key))!;
        Assert.NotEqual(row["etag"], updated["etag"]);
        Assert.NotNull(updated["updated_at"]);
    }

    [Fact]
    public async Task Json_value_is_stored_byte_for_byte()
    {
        var key = Key("json");
        await Store.SetAsync(Save(key, """{"b":[1,2],"a":"x"}""", json: true), Ct);

        Assert.Equal("""{"b":[1,2],"a":"x"}""", Text(await Store.GetAsync(key, Ct)));
    }
}
