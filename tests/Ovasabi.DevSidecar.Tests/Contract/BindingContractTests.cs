using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr;
using Dapr.Client;
using Grpc.Core;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// One sidecar with bindings.postgresql (its connection string read through secretKeyRef from a local file secret
/// store), bindings.aws.s3 against s3rver and bindings.localstorage.
/// </summary>
public sealed class BindingSidecar(PostgresServer postgres, S3Server s3) : SidecarFixture
{
    public const string Sql = "sql";
    public const string Blobs = "blobs";
    public const string Files = "files";

    public SidecarProcess Sidecar { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public string Bucket { get; private set; } = "";

    public string FilesRoot => Path.Combine(Resources.Directory, "files");

    public S3Server S3 => s3;

    protected override async Task StartAsync()
    {
        var connectionString = await postgres.CreateDatabaseAsync("binding_contract");
        Bucket = await s3.CreateBucketAsync("contract");
        File.WriteAllText(Resources.PathOf("secrets.json"), new JsonObject { ["sql"] = new JsonObject { ["connection"] = connectionString } }.ToJsonString());
        Resources
            .Component("localsecrets", "secretstores.local.file", new Dictionary<string, string> { ["secretsFile"] = "secrets.json" })
            .Add("sql.yaml", $"""
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: {Sql}
                spec:
                  type: bindings.postgresql
                  version: v1
                  metadata:
                  - name: connectionString
                    secretKeyRef:
                      name: sql:connection
                auth:
                  secretStore: localsecrets
                """)
            .Component(Blobs, "bindings.aws.s3", new Dictionary<string, string>
            {
                ["bucket"] = Bucket,
                ["endpoint"] = s3.ServiceUrl,
                ["region"] = s3.Region,
                ["accessKey"] = s3.AccessKey,
                ["secretKey"] = s3.SecretKey,
                ["forcePathStyle"] = "true",
                ["disableSSL"] = "true",
            })
            .Component(Files, "bindings.localstorage", new Dictionary<string, string> { ["rootPath"] = "files" });
        Sidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("bindings"), Resources.Directory)));
        Client = ClientOf(Sidecar);
    }
}

/// <summary>Output bindings through the Dapr SDK's InvokeBindingAsync, against real PostgreSQL, s3rver and the file system.</summary>
public sealed class BindingContractTests(BindingSidecar fixture) : IClassFixture<BindingSidecar>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private DaprClient Dapr => fixture.Client;

    private Task<BindingResponse> InvokeAsync(string binding, string operation, byte[] data, Dictionary<string, string> metadata) =>
        Dapr.InvokeBindingAsync(new BindingRequest(binding, operation) { Data = data }.With(metadata), Cancel);

    private Task<BindingResponse> SqlAsync(string operation, string sql, params object?[] parameters) =>
        InvokeAsync(BindingSidecar.Sql, operation, [], new Dictionary<string, string>
        {
            ["sql"] = sql,
            ["params"] = JsonSerializer.Serialize(parameters),
        });

    [Fact]
    public async Task Postgres_exec_and_query_bind_params_so_an_injection_string_stays_data()
    {
        var table = "notes_" + Guid.NewGuid().ToString("N")[..8];
        await SqlAsync("exec", $"CREATE TABLE {table} (id int PRIMARY KEY, body text NOT NULL, amount numeric(12,2))");
        const string injection = "x'); DROP TABLE {0}; --";
        var hostile = string.Format(System.Globalization.CultureInfo.InvariantCulture, injection, table);

        var insert = await SqlAsync("exec", $"INSERT INTO {table} (id, body, amount) VALUES ($1, $2, $3), ($4, $5, $6)", 1, hostile, 12.50m, 2, "plain", null);
        var query = await SqlAsync("query", $"SELECT id, body, amount FROM {table} ORDER BY id");

        Assert.Equal("2", insert.Metadata["rows-affected"]);
        Assert.Equal("exec", insert.Metadata["operation"]);
        var rows = JsonNode.Parse(query.Data.Span)!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.Equal(1, rows[0]![0]!.GetValue<int>());
        Assert.Equal(hostile, rows[0]![1]!.GetValue<string>());
        Assert.Equal("12.50", rows[0]![2]!.ToJsonString());
        Assert.Null(rows[1]![2]);
        Assert.True(query.Metadata.ContainsKey("duration"));
    }

    [Fact]
    public async Task Postgres_without_sql_metadata_fails_with_Internal_and_daprds_message()
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => InvokeAsync(BindingSidecar.Sql, "query", [], new Dictionary<string, string> { ["params"] = "[]" }));

        var rpc = Assert.IsType<RpcException>(error.InnerException);
        Assert.Equal(StatusCode.Internal, rpc.StatusCode);
        Assert.Contains("required metadata not set: sql", rpc.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_bad_sql_fails_with_Internal_naming_the_binding_and_the_sidecar_keeps_serving()
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => SqlAsync("query", "SELEC 1"));

        var rpc = Assert.IsType<RpcException>(error.InnerException);
        Assert.Equal(StatusCode.Internal, rpc.StatusCode);
        Assert.StartsWith($"error invoking output binding {BindingSidecar.Sql}:", rpc.Status.Detail, StringComparison.Ordinal);
        var ok = await SqlAsync("query", "SELECT 1 + $1::int", 1);
        Assert.Equal("[[2]]", Encoding.UTF8.GetString(ok.Data.Span));
    }

    [Fact]
    public async Task S3_create_get_list_delete_round_trip_every_byte_value_exactly()
    {
        var key = $"assets/{Guid.NewGuid():N}.bin";
        var content = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(RandomBytes(2 * 1024 * 1024)).ToArray();
        var metadata = new Dictionary<string, string> { ["key"] = key, ["decodeBase64"] = "true" };

        var created = await InvokeAsync(BindingSidecar.Blobs, "create", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Convert.ToBase64String(content))), metadata);
        var fetched = await InvokeAsync(BindingSidecar.Blobs, "get", [], new Dictionary<string, string> { ["key"] = key });
        var listed = await InvokeAsync(BindingSidecar.Blobs, "list", Encoding.UTF8.GetBytes("""{"prefix":"assets/"}"""), []);

        Assert.Equal(key, created.Metadata["key"]);
        Assert.Equal(content, fetched.Data.ToArray());
        var contents = JsonNode.Parse(listed.Data.Span)!["Contents"]!.AsArray();
        Assert.Contains(contents, c => c!["Key"]!.GetValue<string>() == key && c["Size"]!.GetValue<long>() == content.Length);

        await InvokeAsync(BindingSidecar.Blobs, "delete", [], new Dictionary<string, string> { ["key"] = key });
        var missing = await Assert.ThrowsAsync<DaprException>(() => InvokeAsync(BindingSidecar.Blobs, "get", [], new Dictionary<string, string> { ["key"] = key }));
        Assert.Contains("object not found", Assert.IsType<RpcException>(missing.InnerException).Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task S3_presign_gives_a_url_that_serves_the_object()
    {
        var key = $"shared/{Guid.NewGuid():N}.txt";
        await InvokeAsync(BindingSidecar.Blobs, "create", Encoding.UTF8.GetBytes("\"hello presigned\""), new Dictionary<string, string> { ["key"] = key });

        var presigned = await InvokeAsync(BindingSidecar.Blobs, "presign", [], new Dictionary<string, string> { ["key"] = key, ["presignTTL"] = "5m" });

        var url = JsonNode.Parse(presigned.Data.Span)!["presignURL"]!.GetValue<string>();
        using var http = new HttpClient();
        using var response = await http.GetAsync(url, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello presigned", await response.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task Local_storage_create_get_list_delete_and_a_path_escape_stays_inside_the_root()
    {
        var name = $"reports/{Guid.NewGuid():N}.txt";
        var created = await InvokeAsync(BindingSidecar.Files, "create", Encoding.UTF8.GetBytes("\"quarterly, not base64!\""), new Dictionary<string, string> { ["fileName"] = name });
        var fetched = await InvokeAsync(BindingSidecar.Files, "get", [], new Dictionary<string, string> { ["fileName"] = name });
        var listed = await InvokeAsync(BindingSidecar.Files, "list", [], new Dictionary<string, string> { ["fileName"] = "reports" });
        await InvokeAsync(BindingSidecar.Files, "create", Encoding.UTF8.GetBytes("\"escape attempt!\""), new Dictionary<string, string> { ["fileName"] = "../../outside.txt" });

        Assert.Equal(name, JsonNode.Parse(created.Data.Span)!["fileName"]!.GetValue<string>());
        Assert.Equal("quarterly, not base64!", Encoding.UTF8.GetString(fetched.Data.Span));
        Assert.Contains(Path.Combine(fixture.FilesRoot, name), JsonNode.Parse(listed.Data.Span)!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.True(File.Exists(Path.Combine(fixture.FilesRoot, "outside.txt")));
        Assert.False(File.Exists(Path.Combine(fixture.FilesRoot, "..", "..", "outside.txt")));

        await InvokeAsync(BindingSidecar.Files, "delete", [], new Dictionary<string, string> { ["fileName"] = name });
        Assert.False(File.Exists(Path.Combine(fixture.FilesRoot, name)));
    }

    [Fact]
    public async Task An_unknown_binding_and_an_unsupported_operation_fail_with_Internal_as_in_daprd()
    {
        var unknown = await Assert.ThrowsAsync<DaprException>(() => InvokeAsync("nosuch", "create", [], []));
        var unsupported = await Assert.ThrowsAsync<DaprException>(() => InvokeAsync(BindingSidecar.Files, "truncate", [], []));

        Assert.Equal(StatusCode.Internal, Assert.IsType<RpcException>(unknown.InnerException).StatusCode);
        Assert.Contains("couldn't find output binding nosuch", unknown.InnerException!.Message, StringComparison.Ordinal);
        Assert.Contains("does not support operation truncate", Assert.IsType<RpcException>(unsupported.InnerException).Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_is_read_through_the_secret_api()
    {
        var secret = await Dapr.GetSecretAsync("localsecrets", "sql:connection", cancellationToken: Cancel);

        Assert.Contains("Host=", secret["sql:connection"], StringComparison.OrdinalIgnoreCase);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}

internal static class BindingRequestExtensions
{
    public static BindingRequest With(this BindingRequest request, Dictionary<string, string> metadata)
    {
        foreach (var (key, value) in metadata)
        {
            request.Metadata[key] = value;
        }
        return request;
    }
}
