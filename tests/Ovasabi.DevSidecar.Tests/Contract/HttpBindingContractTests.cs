using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Dapr.Client;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Ovasabi.Testing;
using Ovasabi.Testing.Sidecars;
using GrpcDapr = Dapr.Client.Autogen.Grpc.v1;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// A loopback HTTP server inside the test process. It answers with what it received: the method, target, headers
/// and body length in <c>X-Echo-*</c> headers and the whole request as JSON, unless the path asks for something
/// else (<c>/status/{code}</c>, <c>/multi</c>, <c>/bytes/{n}</c>, <c>/slow</c>, <c>/slowbody</c>, <c>/redirect</c>, <c>/gzip</c>).
/// </summary>
public sealed class HttpTarget : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpTarget(WebApplication app, int port)
    {
        _app = app;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    public static async Task<HttpTarget> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(AnswerAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new HttpTarget(app, port);
    }

    private static async Task AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var segments = request.Path.Value!.Trim('/').Split('/');
        switch (segments[0])
        {
            case "status":
                response.StatusCode = int.Parse(segments[1], System.Globalization.CultureInfo.InvariantCulture);
                response.Headers["X-Reason"] = "asked";
                await response.WriteAsync($"status {segments[1]}");
                return;
            case "multi":
                response.Headers.Append("X-Multi", "a");
                response.Headers.Append("X-Multi", "b");
                response.Headers["x-lower-case"] = "v";
                response.ContentType = "text/plain";
                await response.WriteAsync("multi");
                return;
            case "bytes":
                await response.Body.WriteAsync(new byte[int.Parse(segments[1], System.Globalization.CultureInfo.InvariantCulture)], context.RequestAborted);
                return;
            case "slow":
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                return;
            case "slowbody":
                await response.WriteAsync("first part", context.RequestAborted);
                await response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                return;
            case "redirect":
                response.Redirect("/gzip");
                return;
            case "gzip":
                response.Headers.ContentEncoding = "gzip";
                await using (var gzip = new GZipStream(response.Body, CompressionLevel.Fastest, leaveOpen: true))
                {
                    await gzip.WriteAsync("unzipped by the client"u8.ToArray(), context.RequestAborted);
                }
                return;
        }
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted);
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        response.Headers["X-Echo-Method"] = request.Method;
        response.Headers["X-Echo-Target"] = target;
        response.Headers["X-Echo-Body-Length"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.ContentType = "application/json";
        await response.WriteAsJsonAsync(new
        {
            method = request.Method,
            target,
            headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body = Encoding.UTF8.GetString(body.ToArray()),
        });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>One sidecar with bindings.http components in front of <see cref="HttpTarget"/>, each set up for one behaviour.</summary>
public sealed class HttpBindingSidecar : SidecarFixture
{
    public const string Web = "web";
    public const string Lenient = "web-lenient";
    public const string LowerCaseFlag = "web-lower-case-flag";
    public const string WithToken = "web-token";
    public const string Impatient = "web-impatient";
    public const string Small = "web-small";
    public const string Down = "web-down";

    public HttpTarget Target { get; private set; } = null!;

    public SidecarProcess Sidecar { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public GrpcDapr.Dapr.DaprClient Grpc { get; private set; } = null!;

    /// <summary>The URL of <see cref="Down"/>: a loopback port nothing listens on.</summary>
    public string DownUrl { get; } = $"http://127.0.0.1:{FreePort.Next()}/";

    protected override async Task StartAsync()
    {
        Target = Own(await HttpTarget.StartAsync());
        Resources
            .Component(Web, "bindings.http", new Dictionary<string, string> { ["url"] = Target.Url + "/" })
            .Component(Lenient, "bindings.http", new Dictionary<string, string> { ["url"] = Target.Url, ["errorIfNot2XX"] = "false" })
            // daprd reads errorIfNot2XX in exactly this spelling; any other leaves the default (true).
            .Component(LowerCaseFlag, "bindings.http", new Dictionary<string, string> { ["url"] = Target.Url, ["errorifnot2xx"] = "false" })
            .Component(WithToken, "bindings.http", new Dictionary<string, string>
            {
                ["url"] = Target.Url,
                ["securityToken"] = "s3cr3t",
                ["securityTokenHeader"] = "X-Api-Key",
            })
            .Component(Impatient, "bindings.http", new Dictionary<string, string> { ["url"] = Target.Url, ["responseTimeout"] = "300ms" })
            .Component(Small, "bindings.http", new Dictionary<string, string> { ["url"] = Target.Url, ["maxResponseBodySize"] = "1Ki" })
            .Component(Down, "bindings.http", new Dictionary<string, string> { ["url"] = DownUrl });
        Sidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("http-binding"), Resources.Directory)));
        Client = ClientOf(Sidecar);
        Grpc = Sidecar.CreateGrpcClient();
    }
}

/// <summary>bindings.http through the sidecar's InvokeBinding (SDK and raw gRPC) against a real loopback HTTP server.</summary>
public sealed class HttpBindingContractTests(HttpBindingSidecar fixture) : IClassFixture<HttpBindingSidecar>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private Task<BindingResponse> InvokeAsync(string binding, string operation, string path, string data = "", Dictionary<string, string>? metadata = null)
    {
        var request = new BindingRequest(binding, operation) { Data = Encoding.UTF8.GetBytes(data) };
        request.Metadata["path"] = path;
        return fixture.Client.InvokeBindingAsync(request.With(metadata ?? []), Cancel);
    }

    /// <summary>The raw call: its response headers, and its answer or error.</summary>
    private async Task<(Metadata Headers, GrpcDapr.InvokeBindingResponse? Response, RpcException? Error)> InvokeRawAsync(
        string binding, string operation, Dictionary<string, string> metadata, Metadata? headers = null)
    {
        var request = new GrpcDapr.InvokeBindingRequest { Name = binding, Operation = operation, Data = ByteString.CopyFromUtf8("payload") };
        request.Metadata.Add(metadata);
        using var call = fixture.Grpc.InvokeBindingAsync(request, headers, cancellationToken: Cancel);
        try
        {
            var responseHeaders = await call.ResponseHeadersAsync;
            return (responseHeaders, await call.ResponseAsync, null);
        }
        catch (RpcException e)
        {
            return (await HeadersOrEmptyAsync(call), null, e);
        }
    }

    /// <summary>The response headers; none when the failure came as trailers only.</summary>
    private static async Task<Metadata> HeadersOrEmptyAsync(AsyncUnaryCall<GrpcDapr.InvokeBindingResponse> call)
    {
        try
        {
            return await call.ResponseHeadersAsync;
        }
        catch (RpcException)
        {
            return [];
        }
    }

    /// <summary>A request header the target echoed (header names compare case-insensitively), or null.</summary>
    private static string? Header(ReadOnlyMemory<byte> echo, string name)
    {
        using var document = JsonDocument.Parse(echo);
        var header = document.RootElement.GetProperty("headers").EnumerateObject()
            .FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase));
        return header.Value.ValueKind == JsonValueKind.String ? header.Value.GetString() : null;
    }

    private static string? Header(BindingResponse response, string name) => Header(response.Data, name);

    private static string Body(BindingResponse response)
    {
        using var document = JsonDocument.Parse(response.Data);
        return document.RootElement.GetProperty("body").GetString()!;
    }

    [Theory]
    [InlineData("create", "POST", true)]
    [InlineData("post", "POST", true)]
    [InlineData("put", "PUT", true)]
    [InlineData("patch", "PATCH", true)]
    [InlineData("get", "GET", false)]
    [InlineData("head", "HEAD", false)]
    [InlineData("delete", "DELETE", false)]
    [InlineData("options", "OPTIONS", false)]
    [InlineData("trace", "TRACE", false)]
    public async Task Each_operation_sends_its_method_and_only_create_post_put_and_patch_send_the_data(string operation, string method, bool sendsData)
    {
        var response = await InvokeAsync(HttpBindingSidecar.Web, operation, "echo", "payload");

        Assert.Equal("200", response.Metadata["statusCode"]);
        Assert.Equal(method, response.Metadata["X-Echo-Method"]);
        Assert.Equal(sendsData ? "7" : "0", response.Metadata["X-Echo-Body-Length"]);
        if (sendsData)
        {
            Assert.Equal("payload", Body(response));
            Assert.Equal("application/json; charset=utf-8", Header(response, "Content-Type"));
        }
    }

    [Fact]
    public async Task The_path_metadata_is_appended_to_the_url_with_one_slash_and_its_query_is_kept()
    {
        var response = await InvokeAsync(HttpBindingSidecar.Web, "get", "/items/7?expand=all&x=%20");

        Assert.Equal("/items/7?expand=all&x=%20", response.Metadata["X-Echo-Target"]);
    }

    [Fact]
    public async Task Metadata_keys_starting_with_an_upper_case_letter_become_headers_and_lower_case_ones_do_not()
    {
        var response = await InvokeAsync(HttpBindingSidecar.Web, "get", "echo", metadata: new()
        {
            ["X-Request-Id"] = "r-1",
            ["Authorization"] = "Bearer token-1",
            ["Accept"] = "text/plain",
            ["x-lower"] = "not a header",
            ["tenant"] = "not a header either",
        });

        Assert.Equal("r-1", Header(response, "X-Request-Id"));
        Assert.Equal("Bearer token-1", Header(response, "Authorization"));
        Assert.Equal("text/plain", Header(response, "Accept"));
        Assert.Equal("Go-http-client/1.1", Header(response, "User-Agent"));
        Assert.Null(Header(response, "x-lower"));
        Assert.Null(Header(response, "tenant"));
        Assert.Null(Header(response, "path"));
    }

    [Fact]
    public async Task The_response_metadata_has_statusCode_status_and_every_header_by_its_Go_canonical_name()
    {
        var response = await InvokeAsync(HttpBindingSidecar.Web, "get", "multi");

        Assert.Equal("multi", Encoding.UTF8.GetString(response.Data.Span));
        Assert.Equal("200", response.Metadata["statusCode"]);
        Assert.Equal("200 OK", response.Metadata["status"]);
        Assert.Equal("a, b", response.Metadata["X-Multi"]);
        Assert.Equal("v", response.Metadata["X-Lower-Case"]);
        Assert.Equal("text/plain", response.Metadata["Content-Type"]);
        Assert.True(response.Metadata.ContainsKey("Date"));
    }

    [Fact]
    public async Task A_non_2xx_answer_is_Internal_with_daprds_message_and_still_sends_the_response_metadata_as_headers()
    {
        var (headers, response, error) = await InvokeRawAsync(HttpBindingSidecar.Web, "get", new() { ["path"] = "status/404" });

        Assert.Null(response);
        Assert.NotNull(error);
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal("error invoking output binding web: received status code 404", error.Status.Detail);
        Assert.Equal("ERR_INVOKE_OUTPUT_BINDING", Rpc.Reason(error));
        Assert.Equal("404", headers.GetValue("metadata.statuscode"));
        Assert.Equal("404 Not Found", headers.GetValue("metadata.status"));
        Assert.Equal("asked", headers.GetValue("metadata.x-reason"));
    }

    [Fact]
    public async Task With_errorIfNot2XX_false_on_the_component_or_the_request_a_non_2xx_answer_is_returned_and_true_on_the_request_wins()
    {
        var lenient = await InvokeAsync(HttpBindingSidecar.Lenient, "get", "status/503");
        var perRequest = await InvokeAsync(HttpBindingSidecar.Web, "get", "status/409", metadata: new() { ["errorIfNot2XX"] = "false" });
        var (_, _, strict) = await InvokeRawAsync(HttpBindingSidecar.Lenient, "get", new() { ["path"] = "status/500", ["errorIfNot2XX"] = "true" });
        var (_, _, misspelled) = await InvokeRawAsync(HttpBindingSidecar.LowerCaseFlag, "get", new() { ["path"] = "status/500" });

        Assert.Equal(("503", "503 Service Unavailable", "status 503"), (lenient.Metadata["statusCode"], lenient.Metadata["status"], Encoding.UTF8.GetString(lenient.Data.Span)));
        Assert.Equal("409", perRequest.Metadata["statusCode"]);
        Assert.Equal("error invoking output binding web-lenient: received status code 500", strict?.Status.Detail);
        Assert.Equal("error invoking output binding web-lower-case-flag: received status code 500", misspelled?.Status.Detail);
    }

    [Fact]
    public async Task The_security_token_is_sent_in_the_configured_header()
    {
        var response = await InvokeAsync(HttpBindingSidecar.WithToken, "post", "echo", "{}");

        Assert.Equal("s3cr3t", Header(response, "X-Api-Key"));
    }

    [Fact]
    public async Task The_callers_traceparent_and_baggage_headers_reach_the_target_over_metadata_of_the_same_names()
    {
        const string traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        var (_, response, error) = await InvokeRawAsync(HttpBindingSidecar.Web, "get",
            new()
            {
                ["path"] = "echo",
                ["Traceparent"] = "00-11111111111111111111111111111111-2222222222222222-01",
                ["baggage"] = "from=metadata",
            },
            new Metadata { { "traceparent", traceparent }, { "baggage", "tenant=a,region=eu" } });

        Assert.Null(error);
        Assert.Equal(traceparent, Header(response!.Data.Memory, "traceparent"));
        Assert.Equal("tenant=a,region=eu", Header(response.Data.Memory, "baggage"));
    }

    [Fact]
    public async Task Redirects_are_followed_and_a_gzip_body_is_decoded()
    {
        var response = await InvokeAsync(HttpBindingSidecar.Web, "get", "redirect");

        Assert.Equal("200", response.Metadata["statusCode"]);
        Assert.Equal("unzipped by the client", Encoding.UTF8.GetString(response.Data.Span));
        Assert.False(response.Metadata.ContainsKey("Content-Encoding"));
    }

    [Theory]
    [InlineData("slow", "Get \"{0}/slow\": context deadline exceeded")]
    [InlineData("slowbody", "context deadline exceeded")]
    public async Task An_answer_slower_than_responseTimeout_fails_with_context_deadline_exceeded(string path, string cause)
    {
        var (_, _, error) = await InvokeRawAsync(HttpBindingSidecar.Impatient, "get", new() { ["path"] = path });

        Assert.Equal(StatusCode.Internal, error?.StatusCode);
        Assert.Equal($"error invoking output binding web-impatient: {string.Format(System.Globalization.CultureInfo.InvariantCulture, cause, fixture.Target.Url)}", error?.Status.Detail);
    }

    [Fact]
    public async Task A_body_longer_than_maxResponseBodySize_is_cut_there_without_an_error()
    {
        var response = await InvokeAsync(HttpBindingSidecar.Small, "get", "bytes/5000");

        Assert.Equal("200", response.Metadata["statusCode"]);
        Assert.Equal(1024, response.Data.Length);
    }

    [Fact]
    public async Task An_unsupported_operation_fails_with_daprds_list_of_the_supported_ones()
    {
        var (_, _, error) = await InvokeRawAsync(HttpBindingSidecar.Web, "connect", []);

        Assert.Equal(StatusCode.Internal, error?.StatusCode);
        Assert.Equal("error invoking output binding web: binding web does not support operation connect. supported operations:create get head post put patch delete options trace",
            error?.Status.Detail);
    }

    [Fact]
    public async Task An_unreachable_url_fails_with_Internal_naming_the_method_the_url_and_the_refused_connection()
    {
        var (headers, _, error) = await InvokeRawAsync(HttpBindingSidecar.Down, "create", []);

        var port = new Uri(fixture.DownUrl).Port;
        Assert.Equal(StatusCode.Internal, error?.StatusCode);
        Assert.Equal($"error invoking output binding web-down: Post \"{fixture.DownUrl}\": dial tcp 127.0.0.1:{port}: connect: connection refused", error?.Status.Detail);
        Assert.DoesNotContain(headers, h => h.Key.StartsWith("metadata.", StringComparison.Ordinal));
    }
}
