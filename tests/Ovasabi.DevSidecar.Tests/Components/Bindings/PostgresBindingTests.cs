using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.Bindings;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.Testing;
using static Ovasabi.DevSidecar.Tests.Components.Bindings.ComponentTestKit;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

public sealed class PostgresBindingTests(PostgresServer postgres) : IAsyncLifetime
{
    private string _connectionString = "";
    private PostgresBinding _binding = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _connectionString = await postgres.CreateDatabaseAsync("pgbinding", Ct);
        _binding = await StartAsync(("connectionString", _connectionString));
    }

    public async ValueTask DisposeAsync() => await _binding.DisposeAsync();

    [Fact]
    public async Task Exec_ReportsRowsAffectedAndDaprdTimingMetadata()
    {
        var create = await ExecAsync("CREATE TABLE items (id int PRIMARY KEY, name text)");
        var insert = await ExecAsync("INSERT INTO items VALUES ($1, $2), ($3, $4)", "[1, \"a\", 2, \"b\"]");

        Assert.Equal("0", create.Metadata["rows-affected"]);
        Assert.Equal("2", insert.Metadata["rows-affected"]);
        Assert.Empty(insert.Data);
        Assert.Equal("exec", insert.Metadata["operation"]);
        Assert.Equal("INSERT INTO items VALUES ($1, $2), ($3, $4)", insert.Metadata["sql"]);
        var start = DateTimeOffset.Parse(insert.Metadata["start-time"], CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse(insert.Metadata["end-time"], CultureInfo.InvariantCulture);
        Assert.EndsWith("Z", insert.Metadata["start-time"], StringComparison.Ordinal);
        Assert.True(end >= start);
        Assert.True(GoDuration.TryParse(insert.Metadata["duration"], out _), insert.Metadata["duration"]);
    }

    [Fact]
    public async Task Exec_InjectionStringInParams_IsStoredAsDataAndTheTableSurvives()
    {
        const string injection = "'; DROP TABLE t; --";
        await ExecAsync("CREATE TABLE t (id int, name text)");

        await ExecAsync("INSERT INTO t VALUES ($1, $2)", JsonSerializer.Serialize(new object[] { 1, injection }));
        var rows = await QueryAsync("SELECT name FROM t WHERE name = $1", JsonSerializer.Serialize(new[] { injection }));
        var table = await QueryAsync("SELECT to_regclass('t')::text");

        Assert.Equal(injection, rows[0][0].GetString());
        Assert.Equal("t", table[0][0].GetString());
    }

    [Fact]
    public async Task Query_ReturnsEachRowAsAnArrayOfColumnValuesInColumnOrder()
    {
        await ExecAsync("CREATE TABLE people (id int, name text, active bool)");
        await ExecAsync("INSERT INTO people VALUES (1, 'ann', true), (2, 'bob', false)");

        var response = await _binding.InvokeAsync(Request("query", null, ("sql", "SELECT id, name, active FROM people ORDER BY id")), Ct);

        Assert.Equal("""[[1,"ann",true],[2,"bob",false]]""", Encoding.UTF8.GetString(response.Data));
        Assert.Equal("query", response.Metadata["operation"]);
        Assert.False(response.Metadata.ContainsKey("rows-affected"));
    }

    [Fact]
    public async Task Query_NoRows_ReturnsAnEmptyArray()
    {
        var response = await _binding.InvokeAsync(Request("query", null, ("sql", "SELECT 1 WHERE false")), Ct);

        Assert.Equal("[]", Encoding.UTF8.GetString(response.Data));
    }

    [Fact]
    public async Task Query_RendersColumnTypesAsPgxAndGoJsonDo()
    {
        const string sql = """
            SELECT 42::int4, 9007199254740993::int8, 0.1::float8, 1.1::float4, 12.50::numeric, 'héllo <b>'::text,
                   true, NULL::text, '2024-05-06 07:08:09.123456+02'::timestamptz, '2024-05-06 07:08:09'::timestamp,
                   '2024-05-06'::date, '{"b": 1, "a": [1.0, "x", null, {"d": true, "c": 1e2}]}'::jsonb,
                   '\x00ff10'::bytea, '00112233-4455-6677-8899-aabbccddeeff'::uuid, ARRAY[1, 2, 3],
                   ARRAY['x', NULL], '10:11:12.5'::time, '1 mon 2 days 03:00:00'::interval, '10.1.2.3/24'::inet
            """;

        var response = await _binding.InvokeAsync(Request("query", null, ("sql", sql)), Ct);

        Assert.Equal(
            """
            [[42,9007199254740993,0.1,1.1,12.50,"héllo \u003Cb\u003E",true,null,"2024-05-06T05:08:09.123456Z","2024-05-06T07:08:09Z","2024-05-06T00:00:00Z",{"a":[1,"x",null,{"c":100,"d":true}],"b":1},"AP8Q",[0,17,34,51,68,85,102,119,136,153,170,187,204,221,238,255],[1,2,3],["x",null],{"Microseconds":36672500000,"Valid":true},{"Microseconds":10800000000,"Days":2,"Months":1,"Valid":true},"10.1.2.3/24"]]
            """,
            Encoding.UTF8.GetString(response.Data));
    }

    [Fact]
    public async Task Query_NaNFloat_FailsAsGoCannotEncodeIt()
    {
        var error = await Assert.ThrowsAsync<BindingException>(() => QueryAsync("SELECT 'NaN'::float8"));

        Assert.Contains("json: unsupported value: NaN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Params_ArrayValue_BindsAsPostgresArrayOrAsJsonDependingOnTheColumn()
    {
        await ExecAsync("CREATE TABLE docs (tags text[], body jsonb)");

        await ExecAsync("INSERT INTO docs VALUES ($1, $2)", """[["a", "b\"c", null], [1, {"k": "v"}]]""");
        var row = (await QueryAsync("SELECT tags, body, $1 = ANY(tags) FROM docs", "[\"a\"]"))[0];

        Assert.Equal("""["a","b\u0022c",null]""", row[0].GetRawText());
        Assert.Equal("""[1,{"k":"v"}]""", row[1].GetRawText());
        Assert.True(row[2].GetBoolean());
    }

    [Fact]
    public async Task Params_NumbersInFloatNotation_BindToIntegerColumns()
    {
        await ExecAsync("CREATE TABLE counts (n int, big bigint, ratio numeric)");

        await ExecAsync("INSERT INTO counts VALUES ($1, $2, $3)", "[1e3, 2.0, 0.25]");

        var response = await _binding.InvokeAsync(Request("query", null, ("sql", "SELECT n, big, ratio FROM counts")), Ct);

        Assert.Equal("[[1000,2,0.25]]", Encoding.UTF8.GetString(response.Data));
    }

    [Fact]
    public async Task Params_NullAndBoolean_BindAsSqlNullAndBoolean()
    {
        var row = (await QueryAsync("SELECT $1::text IS NULL, $2::bool", "[null, true]"))[0];

        Assert.True(row[0].GetBoolean());
        Assert.True(row[1].GetBoolean());
    }

    [Fact]
    public async Task MissingSql_FailsRequiredMetadataNotSet()
    {
        var error = await Assert.ThrowsAsync<BindingException>(
            () => _binding.InvokeAsync(Request("query", null, ("params", "[]")), Ct));

        Assert.Equal("required metadata not set: sql", error.Message);
    }

    [Fact]
    public async Task NoMetadataAtAll_FailsMetadataRequired()
    {
        var error = await Assert.ThrowsAsync<BindingException>(() => _binding.InvokeAsync(Request("exec"), Ct));

        Assert.Equal("metadata required", error.Message);
    }

    [Fact]
    public async Task BadSql_FailsWithTheDatabaseMessage()
    {
        var error = await Assert.ThrowsAsync<BindingException>(() => ExecAsync("SELEC 1"));

        Assert.Equal("error executing query: ERROR: syntax error at or near \"SELEC\" (SQLSTATE 42601)", error.Message);
    }

    [Fact]
    public async Task WrongParamType_FailsWithTheDatabaseMessage()
    {
        await ExecAsync("CREATE TABLE typed (n int)");

        var error = await Assert.ThrowsAsync<BindingException>(() => ExecAsync("INSERT INTO typed VALUES ($1)", "[\"not a number\"]"));

        Assert.Contains("invalid input syntax for type integer", error.Message, StringComparison.Ordinal);
        Assert.Contains("SQLSTATE 22P02", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooFewParams_FailsWithTheDatabaseMessage()
    {
        var error = await Assert.ThrowsAsync<BindingException>(() => QueryAsync("SELECT $1::int + $2::int", "[1]"));

        Assert.StartsWith("error executing query:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"a\": 1}")]
    [InlineData("not json")]
    public async Task ParamsThatAreNotAJsonArray_Fail(string parameters)
    {
        var error = await Assert.ThrowsAsync<BindingException>(() => QueryAsync("SELECT 1", parameters));

        Assert.StartsWith("invalid metadata property params: failed to unserialize into an array", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Close_ThenExec_FailsComponentIsClosed_AndClosingAgainSucceeds()
    {
        await _binding.InvokeAsync(Request("close"), Ct);

        var error = await Assert.ThrowsAsync<BindingException>(() => ExecAsync("SELECT 1"));
        var again = await _binding.InvokeAsync(Request("close"), Ct);

        Assert.Equal("component is closed", error.Message);
        Assert.Empty(again.Data);
    }

    [Fact]
    public async Task ConnectionString_LibpqKeywordValueAndUrlForms_BothConnect()
    {
        var settings = new NpgsqlConnectionStringBuilder(_connectionString);
        var password = string.IsNullOrEmpty(settings.Password) ? "" : $" password='{settings.Password}'";
        var keywordValue = $"host={settings.Host} port={settings.Port} user={settings.Username} dbname={settings.Database}{password}";
        var credentials = string.IsNullOrEmpty(settings.Password)
            ? Uri.EscapeDataString(settings.Username!)
            : $"{Uri.EscapeDataString(settings.Username!)}:{Uri.EscapeDataString(settings.Password)}";
        var url = $"postgres://{credentials}@{settings.Host}:{settings.Port}/{settings.Database}?sslmode=disable&application_name=binding-test";

        await using var fromKeywords = await StartAsync(("connectionString", keywordValue));
        await using var fromUrl = await StartAsync(("url", url));
        var viaUrl = await fromUrl.InvokeAsync(Request("query", null, ("sql", "SELECT current_database(), current_setting('application_name')")), Ct);
        var viaKeywords = await fromKeywords.InvokeAsync(Request("query", null, ("sql", "SELECT current_database()")), Ct);

        Assert.Equal($"[[\"{settings.Database}\",\"binding-test\"]]", Encoding.UTF8.GetString(viaUrl.Data));
        Assert.Equal($"[[\"{settings.Database}\"]]", Encoding.UTF8.GetString(viaKeywords.Data));
    }

    [Fact]
    public async Task Init_UnreachableServer_FailsWithABindingErrorThatIgnoreErrorsCanSkip()
    {
        await using var binding = new PostgresBinding(
            Definition("bindings.postgresql", ("connectionString", "host=127.0.0.1 port=1 user=nobody dbname=none"), ("timeout", "2s")),
            Context());

        var error = await Assert.ThrowsAsync<BindingException>(() => binding.InitAsync(Ct));

        Assert.StartsWith("unable to connect to the DB", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("timeout", "500ms")]
    [InlineData("maxConns", "-1")]
    [InlineData("timeout", "soon")]
    public void Constructor_InvalidMetadata_IsRefusedNamingTheField(string field, string value)
    {
        var error = Assert.Throws<ComponentConfigurationException>(
            () => new PostgresBinding(Definition("bindings.postgresql", ("connectionString", "host=localhost"), (field, value)), Context()));

        Assert.Equal(field, error.Field);
        Assert.Contains(SourceFile, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WithoutConnectionString_IsRefused()
    {
        var error = Assert.Throws<ComponentConfigurationException>(() => new PostgresBinding(Definition("bindings.postgresql"), Context()));

        Assert.Equal("connectionString", error.Field);
    }

    private async Task<PostgresBinding> StartAsync(params (string Name, string Value)[] metadata)
    {
        var binding = new PostgresBinding(Definition("bindings.postgresql", metadata), Context());
        await binding.InitAsync(Ct);
        return binding;
    }

    private Task<BindingResponse> ExecAsync(string sql, string? parameters = null) =>
        _binding.InvokeAsync(Request("exec", null, Metadata(sql, parameters)), Ct);

    private async Task<JsonElement[][]> QueryAsync(string sql, string? parameters = null)
    {
        var response = await _binding.InvokeAsync(Request("query", null, Metadata(sql, parameters)), Ct);
        using var document = JsonDocument.Parse(response.Data);
        return [.. document.RootElement.EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.Clone()).ToArray())];
    }

    private static (string, string)[] Metadata(string sql, string? parameters) =>
        parameters is null ? [("sql", sql)] : [("sql", sql), ("params", parameters)];
}
