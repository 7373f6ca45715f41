using System.Text;
using System.Text.Json;
using Ovasabi.DevSidecar.Components;
using static Ovasabi.DevSidecar.Tests.Components.State.StateStoreTestSupport;

namespace Ovasabi.DevSidecar.Tests.Components.State;

/// <summary>state.postgresql v1: jsonb values, xmin etags, table <c>state</c>.</summary>
public sealed class PostgresStateStoreV1Tests(PostgresStateDatabase database)
    : PostgresStateStoreTests(database), IClassFixture<PostgresStateDatabase>
{
    protected override string Version => "v1";

    protected override string TablePrefix => "";

    protected override string ExpiryColumn => "expiredate";

    protected override string UnusedETag => "4000000000";

    protected override string MigrationKey => "migrations";

    protected override string MigrationLevel => "2";

    protected override Dictionary<string, string> TableSettingsFor(string prefix) => new() { ["tableName"] = prefix + "state" };

    [Fact]
    public async Task Non_numeric_etag_throws_ETagInvalid_on_save_and_delete()
    {
        var key = Key("invalid-etag");
        await Store.SetAsync(Save(key, "a"), Ct);

        await Assert.ThrowsAsync<ETagInvalidException>(() => Store.SetAsync(Save(key, "b", etag: "not-a-number"), Ct));
        await Assert.ThrowsAsync<ETagInvalidException>(() => Store.DeleteAsync(Remove(key, etag: "-1"), Ct));
        Assert.Equal("a", Text(await Store.GetAsync(key, Ct)));
    }

    [Fact]
    public async Task Binary_value_is_stored_as_a_base64_json_string_with_isbinary_and_the_etag_is_xmin()
    {
        var key = Key("binary");
        byte[] value = [0, 1, 2, 254, 255];
        await Store.SetAsync(new StateSetRequest(key, value, null, StateConcurrency.Unspecified, StateConsistency.Unspecified, new Dictionary<string, string>()), Ct);

        var row = (await RowAsync(key))!;
        Assert.Equal(["expiredate", "insertdate", "isbinary", "key", "updatedate", "value", "xmin_text"], row.Keys.Order());
        Assert.Equal(JsonSerializer.Serialize(Convert.ToBase64String(value)), row["value"]);
        Assert.Equal(true, row["isbinary"]);
        Assert.NotNull(row["insertdate"]);
        Assert.Null(row["updatedate"]);
        Assert.Null(row["expiredate"]);

        var entry = (await Store.GetAsync(key, Ct))!;
        Assert.Equal(value, entry.Value);
        Assert.Equal(row["xmin_text"], entry.ETag);

        await Store.SetAsync(Save(key, "again", etag: entry.ETag), Ct);
        Assert.NotNull((await RowAsync(key))!["updatedate"]);
    }

    [Fact]
    public async Task Json_value_is_stored_as_jsonb_without_isbinary_and_read_back_as_postgres_prints_it()
    {
        var key = Key("json");
        await Store.SetAsync(Save(key, """{"b":[1,2],"a":"x"}""", json: true), Ct);

        var row = (await RowAsync(key))!;
        Assert.Equal(false, row["isbinary"]);
        using var stored = JsonDocument.Parse((string)row["value"]!);
        Assert.Equal("x", stored.RootElement.GetProperty("a").GetString());

        Assert.Equal("""{"a": "x", "b": [1, 2]}""", Encoding.UTF8.GetString((await Store.GetAsync(key, Ct))!.Value));
    }

    [Fact]
    public async Task Invalid_json_declared_as_json_fails_the_save()
    {
        await Assert.ThrowsAsync<StateStoreException>(() => Store.SetAsync(Save(Key("bad-json"), "{not json", json: true), Ct));
    }
}
