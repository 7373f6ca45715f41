using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Dapr.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing.Protos;
using Ovasabi.Testing;
using static Ovasabi.DevSidecar.Tests.Infrastructure.Markers;
using Verb = Dapr.Client.Autogen.Grpc.v1.HTTPExtension.Types.Verb;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// App A's sidecar (no app, DAPR_API_TOKEN enforced, a Resiliency policy for the flaky app) and three callees, each
/// behind its own sidecar process: an HTTP app and a gRPC app (both with APP_API_TOKEN) and a flaky HTTP app.
/// </summary>
public sealed class InvocationSidecars : SidecarFixture
{
    public const string CallerToken = "caller-dapr-api-token";
    public const string AppToken = "callee-app-api-token";

    public string CallerId { get; } = UniqueName.Create("caller");

    public SidecarProcess Caller { get; private set; } = null!;

    /// <summary>An HttpTestApp with app-protocol http; its sidecar sends it APP_API_TOKEN.</summary>
    public HttpTestApp HttpApp { get; private set; } = null!;

    /// <summary>A CallbackApp (AppCallback + Echo) with app-protocol grpc; its sidecar sends it APP_API_TOKEN.</summary>
    public CallbackApp GrpcApp { get; private set; } = null!;

    /// <summary>An HttpTestApp that the caller's Resiliency resource retries (2 retries, 100 ms apart); no APP_API_TOKEN.</summary>
    public HttpTestApp FlakyApp { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public SidecarProcess GrpcAppSidecar { get; private set; } = null!;

    protected override async Task StartAsync()
    {
        HttpApp = Own(await HttpTestApp.StartAsync(UniqueName.Create("inv-http")));
        GrpcApp = Own(await CallbackApp.StartAsync(UniqueName.Create("inv-grpc")));
        FlakyApp = Own(await HttpTestApp.StartAsync(UniqueName.Create("inv-flaky")));
        Resources.Add("resiliency.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: invocation-retries
            spec:
              policies:
                retries:
                  twiceQuickly:
                    policy: constant
                    duration: 100ms
                    maxRetries: 2
              targets:
                apps:
                  {FlakyApp.AppId}:
                    retry: twiceQuickly
            """);
        var appToken = new Dictionary<string, string?> { ["APP_API_TOKEN"] = AppToken };
        var calleeResources = NewFolder();
        var sidecars = Own(await SidecarProcess.StartReadyAsync(
            new SidecarLaunch(CallerId, Resources.Directory) { Environment = new Dictionary<string, string?> { ["DAPR_API_TOKEN"] = CallerToken } },
            new SidecarLaunch(HttpApp.AppId, calleeResources.Directory) { AppPort = HttpApp.Port, AppProtocol = "http", Environment = appToken },
            new SidecarLaunch(GrpcApp.AppId, calleeResources.Directory) { AppPort = GrpcApp.Port, AppProtocol = "grpc", Environment = appToken },
            new SidecarLaunch(FlakyApp.AppId, calleeResources.Directory) { AppPort = FlakyApp.Port, AppProtocol = "http" }));
        Caller = sidecars[0];
        GrpcAppSidecar = sidecars[2];
        Client = ClientOf(Caller, CallerToken);
    }

    /// <summary>A raw HTTP request to the caller's sidecar, sent exactly as written (no client-side path canonicalization).</summary>
    public HttpRequestMessage Request(HttpMethod verb, string pathAndQuery, bool withToken = true)
    {
        var request = new HttpRequestMessage(verb, new Uri($"http://127.0.0.1:{Caller.HttpPort}{pathAndQuery}",
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
        if (withToken)
        {
            request.Headers.Add("dapr-api-token", CallerToken);
        }
        return request;
    }

    /// <summary>A channel to the caller sidecar's gRPC port, for proxied calls with hand-written metadata.</summary>
    public Echo.EchoClient RawEchoClient() => new(GrpcChannel.ForAddress($"http://127.0.0.1:{Caller.GrpcPort}"));
}

/// <summary>
/// Service invocation between two sidecar processes as the Dapr .NET SDK, a raw HTTP client and a gRPC client drive it:
/// HTTP invocation of HTTP and gRPC apps, gRPC proxying, errors, tokens, tracing and Resiliency retries.
/// </summary>
public sealed class InvocationContractTests(InvocationSidecars fixture) : IClassFixture<InvocationSidecars>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private HttpClient Http => fixture.Caller.Http;

    private string B => fixture.HttpApp.AppId;

    private string C => fixture.GrpcApp.AppId;

    public sealed record Order(string Id, long AmountMinor);

    // ---------------------------------------------------------------- HTTP invocation of an HTTP app

    public static TheoryData<string, string> VerbsAndContentTypes => new()
    {
        { "GET", "text/plain; charset=utf-8" },
        { "POST", "application/json" },
        { "PUT", "application/octet-stream" },
        { "DELETE", "text/plain" },
        { "PATCH", "application/merge-patch+json" },
    };

    [Theory]
    [MemberData(nameof(VerbsAndContentTypes))]
    public async Task Raw_http_invoke_delivers_verb_nested_path_query_body_bytes_and_content_type_to_the_http_app_unchanged(string verb, string contentType)
    {
        var id = Unique("order");
        byte[] body = [.. Encoding.UTF8.GetBytes("{\"x\":1}"), 0x00, 0xFF, 0x80, .. Enumerable.Range(0, 256).Select(i => (byte)i)];
        using var request = fixture.Request(new HttpMethod(verb), $"/v1.0/invoke/{B}/method/orders/{id}/items?x=1&y=a%20b&tag=%7Ebeta&x=2");
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(fixture.HttpApp.All, r => r.Path.StartsWith($"/orders/{id}/", StringComparison.Ordinal));
        Assert.Equal($"/orders/{id}/items?x=1&y=a%20b&tag=%7Ebeta&x=2", seen.Path);
        Assert.Equal(body, seen.Body);
        Assert.Equal(contentType, seen.Headers["content-type"]);
        var echo = await response.Content.ReadFromJsonAsync<JsonObject>(Cancel);
        Assert.Equal(verb, (string?)echo!["method"]);
    }

    // daprd (1.18+) percent-decodes the method, path-cleans it and sends it to an HTTP app re-escaped the way Go escapes
    // a path; a gRPC app gets the decoded, cleaned method name. (sent, raw target at an HTTP app, OnInvoke method)
    private static readonly (string Sent, string HttpTarget, string GrpcMethod)[] Methods =
    [
        ("files/caf%C3%A9/a%20b", "/files/caf%C3%A9/a%20b", "files/café/a b"),
        ("files/caf%c3%a9", "/files/caf%C3%A9", "files/café"),
        ("keys/a%2Fb", "/keys/a/b", "keys/a/b"),
        ("q(1)/%7Euser/x:y@z", "/q(1)/~user/x:y@z", "q(1)/~user/x:y@z"),
        ("nested//segments/./deep/", "/nested/segments/deep", "nested/segments/deep"),
        ("docs/drafts/../readme", "/docs/readme", "docs/readme"),
    ];

    public static TheoryData<string, string> MethodsAtHttpApp => new(Methods.Select(m => (m.Sent, m.HttpTarget)));

    public static TheoryData<string, string> MethodsAtGrpcApp => new(Methods.Select(m => (m.Sent, m.GrpcMethod)));

    [Theory]
    [MemberData(nameof(MethodsAtHttpApp))]
    public async Task An_escaped_or_unclean_method_reaches_an_http_app_decoded_cleaned_and_re_escaped_as_daprd_sends_it(string sent, string expectedTarget)
    {
        var marker = Unique("m");
        using var request = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{B}/method/{sent}?marker={marker}");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(fixture.HttpApp.All, r => r.Path.EndsWith($"?marker={marker}", StringComparison.Ordinal));
        Assert.Equal($"{expectedTarget}?marker={marker}", seen.Path);
    }

    [Theory]
    [MemberData(nameof(MethodsAtGrpcApp))]
    public async Task An_escaped_or_unclean_method_reaches_a_grpc_app_as_the_decoded_cleaned_method_name(string sent, string expectedMethod)
    {
        var marker = Unique("m");
        using var request = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{C}/method/{sent}?marker={marker}");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(fixture.GrpcApp.All, r => r.Kind == "invoke" && r.Invocation.HttpExtension.Querystring == $"marker={marker}");
        Assert.Equal(expectedMethod, seen.Invocation.Method);
    }

    [Fact]
    public async Task A_method_with_a_control_character_is_refused_with_ERR_DIRECT_INVOKE_and_never_reaches_the_app()
    {
        var marker = Unique("ctl");
        using var request = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{B}/method/{marker}%01x");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("ERR_DIRECT_INVOKE", (string?)(await response.Content.ReadFromJsonAsync<JsonObject>(Cancel))!["errorCode"]);
        Assert.DoesNotContain(fixture.HttpApp.All, r => r.Path.Contains(marker, StringComparison.Ordinal));
    }

#pragma warning disable CS0618 // The SDK marks HTTP service invocation obsolete in 1.19, but apps still call it and it still works against daprd.
    [Fact]
    public async Task Sdk_InvokeMethodAsync_posts_json_with_the_query_and_reads_the_typed_answer()
    {
        var order = new Order(Unique("sdk"), 1234);

        var echo = await fixture.Client.InvokeMethodAsync<Order, JsonObject>(HttpMethod.Post, B, $"orders/{order.Id}?source=sdk", order, Cancel);

        Assert.Equal("POST", (string?)echo["method"]);
        Assert.Equal($"/orders/{order.Id}", (string?)echo["path"]);
        Assert.Equal("?source=sdk", (string?)echo["query"]);
        Assert.Equal("{\"id\":\"" + order.Id + "\",\"amountMinor\":1234}", (string?)echo["body"]);
        Assert.StartsWith("application/json", (string?)echo["contentType"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(500)]
    public async Task An_app_error_status_comes_back_with_the_apps_headers_and_body_as_a_response_not_an_invocation_error(int status)
    {
        var id = Unique("err");
        using var request = fixture.Client.CreateInvokeMethodRequest(HttpMethod.Get, B, $"orders/{id}?status={status}");

        using var response = await fixture.Client.InvokeMethodWithResponseAsync(request, Cancel);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(B, Assert.Single(response.Headers.GetValues("x-echo-app")));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var echo = await response.Content.ReadFromJsonAsync<JsonObject>(Cancel);
        Assert.Equal($"/orders/{id}", (string?)echo!["path"]);
    }

    [Fact]
    public async Task Sdk_InvokeMethodAsync_turns_an_app_500_into_an_InvocationException_carrying_the_apps_response()
    {
        var error = await Assert.ThrowsAsync<InvocationException>(() =>
            fixture.Client.InvokeMethodAsync<JsonObject>(HttpMethod.Get, B, $"orders/{Unique("x")}?status=500", Cancel));

        Assert.Equal(B, error.AppId);
        Assert.Equal(HttpStatusCode.InternalServerError, error.Response!.StatusCode);
        Assert.Equal(B, Assert.Single(error.Response.Headers.GetValues("x-echo-app")));
    }
#pragma warning restore CS0618

    [Fact]
    public async Task Sdk_CreateInvokableHttpClient_reaches_the_app_by_lower_case_app_id_host()
    {
        using var client = fixture.Client.CreateInvokableHttpClient(B);
        var id = Unique("inv");

        using var response = await client.PutAsync($"http://{B}/greetings/{id}?lang=en", new StringContent("hallo", Encoding.UTF8, "text/plain"), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(fixture.HttpApp.All, r => r.Path.StartsWith($"/greetings/{id}", StringComparison.Ordinal));
        Assert.Equal($"/greetings/{id}?lang=en", seen.Path);
        Assert.Equal("hallo", seen.Text);
        Assert.Equal("text/plain; charset=utf-8", seen.Headers["content-type"]);
    }

    [Fact]
    public async Task Custom_headers_arrive_and_caller_and_callee_ids_are_stamped_replacing_caller_supplied_copies()
    {
        var id = Unique("hdr");
        using var request = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{B}/method/headers/{id}");
        request.Headers.Add("x-custom-header", "custom value");
        request.Headers.Add("X-Correlation-Id", id);
        request.Headers.Add("dapr-caller-app-id", "spoofed-caller");
        request.Headers.Add("Dapr-Callee-App-Id", "spoofed-callee");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(fixture.HttpApp.All, r => r.Path == $"/headers/{id}");
        Assert.Equal("custom value", seen.Headers["x-custom-header"]);
        Assert.Equal(id, seen.Headers["x-correlation-id"]);
        Assert.Equal(fixture.CallerId, seen.Headers["dapr-caller-app-id"]);
        Assert.Equal(B, seen.Headers["dapr-callee-app-id"]);
    }

    [Theory]
    [InlineData("POST", "/orders/{id}/submit?x=1")]
    [InlineData("GET", "/files/{id}/report.pdf?download=true")]
    [InlineData("DELETE", "/{id}")]
    public async Task The_dapr_app_id_header_on_the_http_port_invokes_the_request_path_and_is_not_forwarded(string verb, string pathTemplate)
    {
        var id = Unique("hdrform");
        var path = pathTemplate.Replace("{id}", id, StringComparison.Ordinal);
        using var request = fixture.Request(new HttpMethod(verb), path);
        request.Headers.Add("dapr-app-id", B);
        request.Content = new StringContent("payload", Encoding.UTF8, "text/plain");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(fixture.HttpApp.All, r => r.Path.Contains(id, StringComparison.Ordinal));
        Assert.Equal(path, seen.Path);
        Assert.Equal("payload", seen.Text);
        Assert.False(seen.Headers.ContainsKey("dapr-app-id"));
        Assert.Equal(fixture.CallerId, seen.Headers["dapr-caller-app-id"]);
    }

    // ---------------------------------------------------------------- HTTP invocation of a gRPC app

    [Theory]
    [InlineData("GET", Verb.Get)]
    [InlineData("POST", Verb.Post)]
    [InlineData("PUT", Verb.Put)]
    [InlineData("DELETE", Verb.Delete)]
    [InlineData("PATCH", Verb.Patch)]
    public async Task Http_invoke_of_a_grpc_app_calls_OnInvoke_with_verb_querystring_body_and_content_type(string verb, Verb expected)
    {
        var id = Unique("cb");
        using var request = fixture.Request(new HttpMethod(verb), $"/v1.0/invoke/{C}/method/orders/{id}?a=1&b=x%20y");
        request.Content = new ByteArrayContent([1, 2, 3, 0, 255]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("x-custom-header", id);

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var echo = await response.Content.ReadFromJsonAsync<JsonObject>(Cancel);
        Assert.Equal($"orders/{id}", (string?)echo!["method"]);
        var seen = Assert.Single(fixture.GrpcApp.All, r => r.Kind == "invoke" && r.Path == $"orders/{id}");
        var invocation = seen.Invocation;
        Assert.Equal(expected, invocation.HttpExtension.Verb);
        Assert.Equal("a=1&b=x%20y", invocation.HttpExtension.Querystring);
        Assert.Equal(new byte[] { 1, 2, 3, 0, 255 }, invocation.Data.Value.ToByteArray());
        Assert.Equal("application/octet-stream", invocation.ContentType);
        Assert.Equal(id, seen.Headers["x-custom-header"]);
        Assert.Equal(fixture.CallerId, seen.Headers["dapr-caller-app-id"]);
    }

    // ---------------------------------------------------------------- gRPC proxying

    [Fact]
    public async Task A_unary_call_with_the_sdk_invocation_invoker_is_proxied_to_the_grpc_app_behind_another_sidecar()
    {
        var invoker = DaprClient.CreateInvocationInvoker(C, $"http://127.0.0.1:{fixture.Caller.GrpcPort}", InvocationSidecars.CallerToken);
        var text = Unique("say");

        var reply = await new Echo.EchoClient(invoker).SayAsync(new SayRequest { Text = text }, cancellationToken: Cancel);

        Assert.Equal(text, reply.Text);
        Assert.Equal(C, reply.ServedBy);
        Assert.Equal(fixture.CallerId, reply.Headers["dapr-caller-app-id"]);
        Assert.Equal(C, reply.Headers["dapr-callee-app-id"]);
    }

    [Fact]
    public async Task At_info_level_a_proxied_call_writes_no_log_line_on_either_sidecar()
    {
        var invoker = DaprClient.CreateInvocationInvoker(C, $"http://127.0.0.1:{fixture.Caller.GrpcPort}", InvocationSidecars.CallerToken);

        await new Echo.EchoClient(invoker).SayAsync(new SayRequest { Text = Unique("quiet") }, cancellationToken: Cancel);

        // The proxy (YARP) logs each forwarded call at information level; daprd logs none.
        Assert.DoesNotContain("Proxying to", fixture.Caller.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Proxying to", fixture.GrpcAppSidecar.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_proxied_call_reaches_the_app_with_the_apps_own_address_as_authority()
    {
        var invoker = DaprClient.CreateInvocationInvoker(C, $"http://127.0.0.1:{fixture.Caller.GrpcPort}", InvocationSidecars.CallerToken);

        var reply = await new Echo.EchoClient(invoker).SayAsync(new SayRequest { Text = Unique("authority") }, cancellationToken: Cancel);

        // Apps that serve gRPC on one port only (Kestrel RequireHost) depend on it, as daprd dials the app by address.
        Assert.Equal($"127.0.0.1:{fixture.GrpcApp.Port}", reply.Headers[":authority"]);
    }

    [Fact]
    public async Task A_server_streaming_call_is_proxied_with_every_message_in_order()
    {
        var invoker = DaprClient.CreateInvocationInvoker(C, $"http://127.0.0.1:{fixture.Caller.GrpcPort}", InvocationSidecars.CallerToken);
        using var call = new Echo.EchoClient(invoker).Count(new CountRequest { UpTo = 100 }, cancellationToken: Cancel);

        var values = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync(Cancel))
        {
            values.Add(reply.Value);
        }

        Assert.Equal(Enumerable.Range(1, 100), values);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task An_app_RpcException_comes_back_through_the_proxy_with_its_status_and_detail()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await fixture.RawEchoClient().SayAsync(new SayRequest { Text = "fail" },
            new Metadata { { "dapr-app-id", C }, { "dapr-api-token", InvocationSidecars.CallerToken } }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("asked to fail", error.Status.Detail);
    }

    [Fact]
    public async Task Caller_supplied_caller_and_callee_ids_are_replaced_on_a_proxied_call()
    {
        var reply = await fixture.RawEchoClient().SayAsync(new SayRequest { Text = Unique("spoof") },
            new Metadata
            {
                { "dapr-app-id", C },
                { "dapr-api-token", InvocationSidecars.CallerToken },
                { "dapr-caller-app-id", "spoofed-caller" },
                { "dapr-callee-app-id", "spoofed-callee" },
            }, cancellationToken: Cancel);

        Assert.Equal(fixture.CallerId, reply.Headers["dapr-caller-app-id"]);
        Assert.Equal(C, reply.Headers["dapr-callee-app-id"]);
    }

    // ---------------------------------------------------------------- unknown app IDs

    [Fact]
    public async Task Raw_http_invoke_of_an_unknown_app_fails_fast_with_500_ERR_DIRECT_INVOKE()
    {
        var unknown = Unique("nosuchapp");
        using var request = fixture.Request(HttpMethod.Post, $"/v1.0/invoke/{unknown}/method/orders");
        var clock = Stopwatch.StartNew();

        using var response = await Http.SendAsync(request, Cancel);

        clock.Stop();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonObject>(Cancel);
        Assert.Equal("ERR_DIRECT_INVOKE", (string?)error!["errorCode"]);
        Assert.StartsWith($"failed to invoke, id: {unknown}, err: ", (string?)error["message"], StringComparison.Ordinal);
        // The built-in retry (3 × 1 s) is for transport failures; a failed lookup is not retried.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the failure took {clock.Elapsed}: the lookup failure was retried");
    }

#pragma warning disable CS0618 // HTTP service invocation is obsolete in the 1.19 SDK but still used by apps.
    [Fact]
    public async Task Sdk_invoke_of_an_unknown_app_throws_InvocationException_with_the_500_response()
    {
        var unknown = Unique("nosuchapp");

        var error = await Assert.ThrowsAsync<InvocationException>(() => fixture.Client.InvokeMethodAsync(HttpMethod.Get, unknown, "ping", Cancel));

        Assert.Equal(unknown, error.AppId);
        Assert.Equal(HttpStatusCode.InternalServerError, error.Response!.StatusCode);
        Assert.Equal("ERR_DIRECT_INVOKE", (string?)(await error.Response.Content.ReadFromJsonAsync<JsonObject>(Cancel))!["errorCode"]);
    }
#pragma warning restore CS0618

    [Fact]
    public async Task A_proxied_grpc_call_to_an_unknown_app_fails_with_Unknown()
    {
        var unknown = Unique("nosuchapp");

        var error = await Assert.ThrowsAsync<RpcException>(async () => await fixture.RawEchoClient().SayAsync(new SayRequest { Text = "x" },
            new Metadata { { "dapr-app-id", unknown }, { "dapr-api-token", InvocationSidecars.CallerToken } }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.Contains(unknown, error.Status.Detail, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- API tokens

    [Fact]
    public async Task The_http_app_receives_its_sidecars_APP_API_TOKEN_and_never_the_callers_DAPR_API_TOKEN()
    {
        var id = Unique("tok");
        using var toHttpApp = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{B}/method/token/{id}");
        using var toFlakyApp = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{fixture.FlakyApp.AppId}/method/token/{id}");

        using var first = await Http.SendAsync(toHttpApp, Cancel);
        using var second = await Http.SendAsync(toFlakyApp, Cancel);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(InvocationSidecars.AppToken, Assert.Single(fixture.HttpApp.All, r => r.Path == $"/token/{id}").Headers["dapr-api-token"]);
        // The flaky app's sidecar has no APP_API_TOKEN: no token at all reaches that app.
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False(Assert.Single(fixture.FlakyApp.All, r => r.Path == $"/token/{id}").Headers.ContainsKey("dapr-api-token"));
    }

    [Fact]
    public async Task The_grpc_app_receives_APP_API_TOKEN_on_OnInvoke_and_on_proxied_calls()
    {
        var id = Unique("tok");
        using var request = fixture.Request(HttpMethod.Post, $"/v1.0/invoke/{C}/method/token/{id}");
        using var response = await Http.SendAsync(request, Cancel);
        var reply = await fixture.RawEchoClient().SayAsync(new SayRequest { Text = id },
            new Metadata { { "dapr-app-id", C }, { "dapr-api-token", InvocationSidecars.CallerToken } }, cancellationToken: Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(InvocationSidecars.AppToken, Assert.Single(fixture.GrpcApp.All, r => r.Kind == "invoke" && r.Path == $"token/{id}").Headers["dapr-api-token"]);
        Assert.Equal(InvocationSidecars.AppToken, reply.Headers["dapr-api-token"]);
    }

    [Fact]
    public async Task The_caller_sidecar_refuses_an_invocation_without_its_DAPR_API_TOKEN()
    {
        using var request = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{B}/method/never/{Unique("t")}", withToken: false);

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain(fixture.HttpApp.All, r => r.Path.StartsWith("/never/", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- tracing

    [Theory]
    [InlineData("01")]
    [InlineData("00")]
    public async Task A_w3c_traceparent_keeps_its_trace_id_at_the_http_app_the_grpc_app_and_through_the_proxy(string flags)
    {
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var traceparent = $"00-{traceId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..8])}-{flags}";
        var id = Unique("trace");

        using var toHttp = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{B}/method/trace/{id}");
        toHttp.Headers.Add("traceparent", traceparent);
        using var httpResponse = await Http.SendAsync(toHttp, Cancel);
        using var toGrpc = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{C}/method/trace/{id}");
        toGrpc.Headers.Add("traceparent", traceparent);
        using var grpcResponse = await Http.SendAsync(toGrpc, Cancel);
        var proxied = await fixture.RawEchoClient().SayAsync(new SayRequest { Text = id },
            new Metadata { { "dapr-app-id", C }, { "dapr-api-token", InvocationSidecars.CallerToken }, { "traceparent", traceparent } }, cancellationToken: Cancel);

        Assert.Equal(HttpStatusCode.OK, httpResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, grpcResponse.StatusCode);
        Assert.Equal(traceId, TraceIdOf(Assert.Single(fixture.HttpApp.All, r => r.Path == $"/trace/{id}").Headers["traceparent"]));
        Assert.Equal(traceId, TraceIdOf(Assert.Single(fixture.GrpcApp.All, r => r.Kind == "invoke" && r.Path == $"trace/{id}").Headers["traceparent"]));
        Assert.Equal(traceId, TraceIdOf(proxied.Headers["traceparent"]));
    }

    // ---------------------------------------------------------------- Resiliency

    [Fact]
    public async Task With_an_app_retry_policy_a_500_once_then_200_is_retried_and_the_200_returned()
    {
        var path = $"flaky/{Unique("once")}";
        using var request = fixture.Request(HttpMethod.Post, $"/v1.0/invoke/{fixture.FlakyApp.AppId}/method/{path}?status=500&statusCount=1");
        request.Content = new StringContent("same body every attempt");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var calls = fixture.FlakyApp.All.Where(r => r.Path.StartsWith($"/{path}?", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal("same body every attempt", c.Text));
    }

    [Fact]
    public async Task With_an_app_retry_policy_a_persistent_500_is_tried_1_plus_maxRetries_times_and_the_last_answer_returned()
    {
        var path = $"flaky/{Unique("always")}";
        using var request = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{fixture.FlakyApp.AppId}/method/{path}?status=500");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(fixture.FlakyApp.AppId, Assert.Single(response.Headers.GetValues("x-echo-app")));
        Assert.Equal($"/{path}", (string?)(await response.Content.ReadFromJsonAsync<JsonObject>(Cancel))!["path"]);
        Assert.Equal(3, fixture.FlakyApp.All.Count(r => r.Path.StartsWith($"/{path}?", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_a_policy_an_app_500_is_returned_as_is_after_one_call()
    {
        var path = $"noretry/{Unique("once")}";
        using var request = fixture.Request(HttpMethod.Get, $"/v1.0/invoke/{B}/method/{path}?status=500&statusCount=1");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Single(fixture.HttpApp.All, r => r.Path.StartsWith($"/{path}?", StringComparison.Ordinal));
    }
}
