using System.Text;
using System.Text.Json;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.Bindings;
using Ovasabi.Testing;
using static Ovasabi.DevSidecar.Tests.Components.Bindings.ComponentTestKit;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

public sealed class S3BindingTests(S3Server s3) : IAsyncLifetime
{
    private static readonly byte[] EveryByte = [.. Enumerable.Range(0, 256).Select(i => (byte)i)];

    private string _bucket = "";
    private S3Binding _binding = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _bucket = await s3.CreateBucketAsync("s3binding", Ct);
        _binding = await StartAsync();
    }

    public async ValueTask DisposeAsync() => await _binding.DisposeAsync();

    [Fact]
    public async Task CreateThenGet_EveryByteValue_RoundTripsExactly()
    {
        var created = await _binding.InvokeAsync(Request("create", EveryByte, ("key", "bin/all-bytes")), Ct);
        var fetched = await _binding.InvokeAsync(Request("get", null, ("key", "bin/all-bytes")), Ct);

        Assert.Equal(EveryByte, fetched.Data);
        Assert.Equal("bin/all-bytes", created.Metadata["key"]);
        using var body = JsonDocument.Parse(created.Data);
        Assert.Equal($"{s3.ServiceUrl.TrimEnd('/')}/{_bucket}/bin/all-bytes", body.RootElement.GetProperty("location").GetString());
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("versionID").ValueKind);
        Assert.False(body.RootElement.TryGetProperty("presignURL", out _));
    }

    [Fact]
    public async Task CreateThenGet_MultiMegabyteObject_RoundTripsExactly()
    {
        var large = new byte[6 * 1024 * 1024 + 123];
        new Random(42).NextBytes(large);

        await _binding.InvokeAsync(Request("create", large, ("key", "large.bin")), Ct);
        var fetched = await _binding.InvokeAsync(Request("get", null, ("key", "large.bin")), Ct);

        Assert.Equal(large.Length, fetched.Data.Length);
        Assert.True(large.AsSpan().SequenceEqual(fetched.Data));
    }

    [Fact]
    public async Task Create_WithoutKey_StoresUnderAGeneratedUuid()
    {
        var created = await _binding.InvokeAsync(Request("create", "payload"u8.ToArray()), Ct);

        var key = created.Metadata["key"];
        Assert.True(Guid.TryParse(key, out _), key);
        Assert.Equal("payload"u8.ToArray(), (await GetAsync(key)).Data);
    }

    [Theory]
    [InlineData("\"hello\"", "hello")]
    [InlineData("\"line\\nnext \\u00e9\"", "line\nnext é")]
    [InlineData("12.50", "12.5")]
    [InlineData("true", "true")]
    [InlineData("null", "")]
    [InlineData("{\"a\": 1}", "{\"a\": 1}")]
    [InlineData("plain text", "plain text")]
    public async Task Create_BodyIsJsonUnquotedBeforeUpload(string body, string stored)
    {
        await _binding.InvokeAsync(Request("create", Encoding.UTF8.GetBytes(body), ("key", "unquote")), Ct);

        Assert.Equal(stored, Encoding.UTF8.GetString((await GetAsync("unquote")).Data));
    }

    [Fact]
    public async Task Create_DecodeBase64PerRequest_StoresTheDecodedBytes()
    {
        var text = Encoding.ASCII.GetBytes(Convert.ToBase64String(EveryByte));

        await _binding.InvokeAsync(Request("create", text, ("key", "decoded"), ("decodeBase64", "true")), Ct);

        Assert.Equal(EveryByte, (await GetAsync("decoded")).Data);
    }

    [Fact]
    public async Task Create_DecodeBase64OnTheComponent_AppliesToAJsonQuotedBody()
    {
        await using var binding = await StartAsync(("decodeBase64", "true"));

        await binding.InvokeAsync(Request("create", Encoding.ASCII.GetBytes($"\"{Convert.ToBase64String(EveryByte)}\""), ("key", "quoted-b64")), Ct);

        Assert.Equal(EveryByte, (await GetAsync("quoted-b64")).Data);
    }

    [Fact]
    public async Task Create_DecodeBase64WithInvalidText_Fails()
    {
        var error = await Assert.ThrowsAsync<BindingException>(
            () => _binding.InvokeAsync(Request("create", "not base64!"u8.ToArray(), ("key", "bad"), ("decodeBase64", "true")), Ct));

        Assert.StartsWith("s3 binding error: uploading failed: illegal base64 data", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_EncodeBase64PerRequestOrOnTheComponent_ReturnsBase64Text()
    {
        await _binding.InvokeAsync(Request("create", EveryByte, ("key", "encoded")), Ct);
        await using var encoding = await StartAsync(("encodeBase64", "true"));

        var perRequest = await _binding.InvokeAsync(Request("get", null, ("key", "encoded"), ("encodeBase64", "true")), Ct);
        var perComponent = await encoding.InvokeAsync(Request("get", null, ("key", "encoded")), Ct);
        var overridden = await encoding.InvokeAsync(Request("get", null, ("key", "encoded"), ("encodeBase64", "false")), Ct);

        Assert.Equal(Convert.ToBase64String(EveryByte), Encoding.ASCII.GetString(perRequest.Data));
        Assert.Equal(Convert.ToBase64String(EveryByte), Encoding.ASCII.GetString(perComponent.Data));
        Assert.Equal(EveryByte, overridden.Data);
    }

    [Fact]
    public async Task Get_MissingObject_FailsObjectNotFound()
    {
        var error = await Assert.ThrowsAsync<BindingException>(() => GetAsync("does/not/exist"));

        Assert.Equal("object not found", error.Message);
    }

    [Theory]
    [InlineData("get")]
    [InlineData("delete")]
    [InlineData("presign")]
    public async Task OperationsNeedingAKey_WithoutOne_Fail(string operation)
    {
        var error = await Assert.ThrowsAsync<BindingException>(
            () => _binding.InvokeAsync(Request(operation, null, ("presignTTL", "1m")), Ct));

        Assert.Equal("s3 binding error: required metadata 'key' missing", error.Message);
    }

    [Fact]
    public async Task Delete_RemovesTheObject()
    {
        await _binding.InvokeAsync(Request("create", "x"u8.ToArray(), ("key", "doomed")), Ct);

        var deleted = await _binding.InvokeAsync(Request("delete", null, ("key", "doomed")), Ct);

        Assert.Empty(deleted.Data);
        await Assert.ThrowsAsync<BindingException>(() => GetAsync("doomed"));
    }

    [Fact]
    public async Task List_ReturnsTheGoSdkListingWithPascalCaseFields()
    {
        await _binding.InvokeAsync(Request("create", "12345"u8.ToArray(), ("key", "docs/a.txt")), Ct);
        await _binding.InvokeAsync(Request("create", "1"u8.ToArray(), ("key", "docs/b.txt")), Ct);
        await _binding.InvokeAsync(Request("create", "1"u8.ToArray(), ("key", "other.txt")), Ct);

        var response = await _binding.InvokeAsync(Request("list", """{"prefix":"docs/"}"""u8.ToArray()), Ct);

        using var listing = JsonDocument.Parse(response.Data);
        var root = listing.RootElement;
        Assert.Equal(_bucket, root.GetProperty("Name").GetString());
        Assert.Equal("docs/", root.GetProperty("Prefix").GetString());
        Assert.False(root.GetProperty("IsTruncated").GetBoolean());
        Assert.Equal(1000, root.GetProperty("MaxKeys").GetInt32());
        var contents = root.GetProperty("Contents").EnumerateArray().ToList();
        Assert.Equal(["docs/a.txt", "docs/b.txt"], contents.Select(c => c.GetProperty("Key").GetString()));
        Assert.Equal(5, contents[0].GetProperty("Size").GetInt64());
        Assert.StartsWith("\"", contents[0].GetProperty("ETag").GetString(), StringComparison.Ordinal);
        Assert.True(contents[0].GetProperty("LastModified").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Equal(
            ["CommonPrefixes", "Contents", "Delimiter", "EncodingType", "IsTruncated", "Marker", "MaxKeys", "Name", "NextMarker", "Prefix", "RequestCharged", "ResultMetadata"],
            root.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task List_WithDelimiterAndMaxResults_GroupsPrefixesAndPagesWithMarkers()
    {
        foreach (var key in new[] { "p/1", "p/2", "p/3", "q/dir/x", "q/dir/y" })
        {
            await _binding.InvokeAsync(Request("create", "x"u8.ToArray(), ("key", key)), Ct);
        }

        var grouped = await ListAsync("""{"prefix":"q/","delimiter":"/"}""");
        var firstPage = await ListAsync("""{"prefix":"p/","maxResults":2}""");
        var secondPage = await ListAsync("""{"prefix":"p/","maxResults":2,"marker":"p/2"}""");

        Assert.Equal("q/dir/", grouped.GetProperty("CommonPrefixes")[0].GetProperty("Prefix").GetString());
        Assert.Equal(JsonValueKind.Null, grouped.GetProperty("Contents").ValueKind);
        Assert.True(firstPage.GetProperty("IsTruncated").GetBoolean());
        Assert.Equal(["p/1", "p/2"], firstPage.GetProperty("Contents").EnumerateArray().Select(c => c.GetProperty("Key").GetString()));
        Assert.Equal(["p/3"], secondPage.GetProperty("Contents").EnumerateArray().Select(c => c.GetProperty("Key").GetString()));
    }

    [Fact]
    public async Task List_BodyThatIsNotAnObject_Fails()
    {
        var error = await Assert.ThrowsAsync<BindingException>(() => _binding.InvokeAsync(Request("list", "[1]"u8.ToArray()), Ct));

        Assert.StartsWith("s3 binding (List Operation) - unable to parse Data property", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Presign_ReturnsAGetUrlThatServesTheObjectOverHttp()
    {
        await _binding.InvokeAsync(Request("create", EveryByte, ("key", "shared/file.bin"), ("Content-Type", "image/png")), Ct);

        var response = await _binding.InvokeAsync(Request("presign", null, ("key", "shared/file.bin"), ("presignTTL", "15m")), Ct);

        using var body = JsonDocument.Parse(response.Data);
        var url = body.RootElement.GetProperty("presignURL").GetString()!;
        Assert.StartsWith("http://", url, StringComparison.Ordinal);
        using var http = new HttpClient();
        using var fetched = await http.GetAsync(url, Ct);
        fetched.EnsureSuccessStatusCode();
        Assert.Equal(EveryByte, await fetched.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("image/png", fetched.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Create_WithPresignTtl_AlsoReturnsAPresignedUrl()
    {
        var created = await _binding.InvokeAsync(Request("create", "hi"u8.ToArray(), ("key", "with-url"), ("presignTTL", "1h")), Ct);

        using var body = JsonDocument.Parse(created.Data);
        using var http = new HttpClient();
        Assert.Equal("hi", await http.GetStringAsync(body.RootElement.GetProperty("presignURL").GetString(), Ct));
    }

    [Theory]
    [InlineData(null, "s3 binding error: required metadata 'presignTTL' missing")]
    [InlineData("soon", "s3 binding error: cannot parse duration soon")]
    public async Task Presign_WithoutAValidTtl_Fails(string? ttl, string message)
    {
        (string, string)[] metadata = ttl is null ? [("key", "k")] : [("key", "k"), ("presignTTL", ttl)];

        var error = await Assert.ThrowsAsync<BindingException>(() => _binding.InvokeAsync(Request("presign", null, metadata), Ct));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task Init_BucketThatDoesNotExist_FailsNamingTheBucket()
    {
        await using var binding = new S3Binding(Definition("bindings.aws.s3", Settings("no-such-bucket-" + Guid.NewGuid().ToString("N")[..8])), Context());

        var error = await Assert.ThrowsAsync<BindingException>(() => binding.InitAsync(Ct));

        Assert.StartsWith("cannot access bucket 'no-such-bucket-", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WithoutBucket_IsRefused()
    {
        var error = Assert.Throws<ComponentConfigurationException>(() => new S3Binding(Definition("bindings.aws.s3", ("region", "us-east-1")), Context()));

        Assert.Equal("bucket", error.Field);
    }

    private async Task<S3Binding> StartAsync(params (string Name, string Value)[] extra)
    {
        var binding = new S3Binding(Definition("bindings.aws.s3", [.. Settings(_bucket), .. extra]), Context());
        await binding.InitAsync(Ct);
        return binding;
    }

    /// <summary>The settings build-environment.md §3 gives for s3rver.</summary>
    private (string, string)[] Settings(string bucket) =>
    [
        ("bucket", bucket),
        ("endpoint", s3.ServiceUrl),
        ("region", s3.Region),
        ("forcePathStyle", "true"),
        ("disableSSL", "true"),
        ("accessKey", s3.AccessKey),
        ("secretKey", s3.SecretKey),
    ];

    private Task<BindingResponse> GetAsync(string key) => _binding.InvokeAsync(Request("get", null, ("key", key)), Ct);

    private async Task<JsonElement> ListAsync(string body)
    {
        var response = await _binding.InvokeAsync(Request("list", Encoding.UTF8.GetBytes(body)), Ct);
        using var document = JsonDocument.Parse(response.Data);
        return document.RootElement.Clone();
    }
}
