using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapr;
using Dapr.Client;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing.Protos;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>A sidecar started with DAPR_API_TOKEN, with redis state and pub/sub and a gRPC app (AppCallback + Echo) behind it.</summary>
public sealed class TokenSidecar(RedisServer redis) : SidecarFixture
{
    public const string Token = "contract-token-3f9a";
    public const string Store = "statestore";
    public const string PubSub = "pubsub";

    public SidecarProcess Sidecar { get; private set; } = null!;

    public CallbackApp App { get; private set; } = null!;

    protected override async Task StartAsync()
    {
        Resources.RedisState(Store, redis).RedisPubSub(PubSub, redis);
        App = Own(await CallbackApp.StartAsync(UniqueName.Create("token")));
        Sidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(App.AppId, Resources.Directory)
        {
            AppPort = App.Port,
            Environment = new Dictionary<string, string?> { ["DAPR_API_TOKEN"] = Token },
        }));
        await Sidecar.WaitReadyAsync();
    }
}

/// <summary>DAPR_API_TOKEN enforcement (app → sidecar) over gRPC, HTTP and gRPC proxying, as daprd does it.</summary>
public sealed class ApiTokenContractTests(TokenSidecar fixture) : IClassFixture<TokenSidecar>
{
    private const string MissingReason = "missing api token in request metadata";
    private const string MismatchReason = "authentication error: api token mismatch";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private SidecarProcess Sidecar => fixture.Sidecar;

    [Fact]
    public async Task A_grpc_call_without_a_token_is_Unauthenticated_Unauthorized_with_the_missing_token_reason_in_ErrorInfo()
    {
        var grpc = Sidecar.CreateGrpcClient();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await grpc.GetMetadataAsync(new global::Dapr.Client.Autogen.Grpc.v1.GetMetadataRequest(), cancellationToken: Cancel));

        AssertUnauthenticated(error, MissingReason);
    }

    [Fact]
    public async Task A_grpc_call_with_a_wrong_token_is_Unauthenticated_Unauthorized_with_the_mismatch_reason_in_ErrorInfo()
    {
        var grpc = Sidecar.CreateGrpcClient();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await grpc.GetMetadataAsync(new global::Dapr.Client.Autogen.Grpc.v1.GetMetadataRequest(), Token("wrong-token"), cancellationToken: Cancel));

        AssertUnauthenticated(error, MismatchReason);
    }

    [Fact]
    public async Task The_SDK_with_a_wrong_token_gets_DaprException_over_Unauthenticated_for_state_and_publish()
    {
        using var dapr = Sidecar.CreateClient("wrong-token");

        var save = await Assert.ThrowsAsync<DaprException>(() => dapr.SaveStateAsync(TokenSidecar.Store, Key(), 1, cancellationToken: Cancel));
        var publish = await Assert.ThrowsAsync<DaprException>(() => dapr.PublishEventAsync(TokenSidecar.PubSub, "orders", new { id = 1 }, Cancel));

        AssertUnauthenticated(Assert.IsType<RpcException>(save.InnerException), MismatchReason);
        AssertUnauthenticated(Assert.IsType<RpcException>(publish.InnerException), MismatchReason);
    }

    [Fact]
    public async Task The_SDK_with_the_right_token_saves_and_reads_state_publishes_and_reads_metadata()
    {
        using var dapr = Sidecar.CreateClient(TokenSidecar.Token);
        var key = Key();

        await dapr.SaveStateAsync(TokenSidecar.Store, key, new { amount = 42 }, cancellationToken: Cancel);
        var stored = await dapr.GetStateAsync<System.Text.Json.JsonElement>(TokenSidecar.Store, key, cancellationToken: Cancel);
        await dapr.PublishEventAsync(TokenSidecar.PubSub, "orders", new { id = key }, Cancel);
        var metadata = await dapr.GetMetadataAsync(Cancel);

        Assert.Equal(42, stored.GetProperty("amount").GetInt32());
        Assert.Equal(Sidecar.AppId, metadata.Id);
        Assert.Contains(metadata.Components, c => c.Name == TokenSidecar.Store);
    }

    [Fact]
    public async Task SaveBulkStateAsync_fails_Unauthenticated_because_the_SDK_sends_no_token_on_it_as_against_daprd()
    {
        using var dapr = Sidecar.CreateClient(TokenSidecar.Token);

        // Dapr .NET SDK quirk (dotnet-sdk#1282): SaveBulkStateAsync builds its call without the token header.
        var error = await Assert.ThrowsAsync<DaprException>(() => dapr.SaveBulkStateAsync(TokenSidecar.Store,
            [new SaveStateItem<int>(Key(), 1, "")], Cancel));

        AssertUnauthenticated(Assert.IsType<RpcException>(error.InnerException), MissingReason);
    }

    public static TheoryData<string, string> ProtectedRoutes => new()
    {
        { "GET", "/v1.0/metadata" },
        { "GET", $"/v1.0/state/{TokenSidecar.Store}/some-key" },
        { "POST", $"/v1.0/publish/{TokenSidecar.PubSub}/orders" },
        { "POST", "/v1.0/invoke/anyapp/method/orders" },
        { "GET", "/v1.0/no-such-route" },
    };

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task An_http_request_without_a_token_is_answered_401_invalid_api_token(string verb, string path)
    {
        using var response = await Sidecar.Http.SendAsync(Request(verb, path, token: null), Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid api token", await response.Content.ReadAsStringAsync(Cancel));
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task An_http_request_with_a_wrong_token_is_answered_401_invalid_api_token(string verb, string path)
    {
        using var response = await Sidecar.Http.SendAsync(Request(verb, path, token: "wrong-token"), Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid api token", await response.Content.ReadAsStringAsync(Cancel));
    }

    [Theory]
    [InlineData("/v1.0/healthz")]
    [InlineData("/v1.0/healthz/outbound")]
    public async Task The_health_routes_answer_without_a_token(string path)
    {
        using var response = await Sidecar.Http.GetAsync(path, Cancel);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task The_SDK_health_checks_work_without_a_token()
    {
        using var dapr = Sidecar.CreateClient();

        Assert.True(await dapr.CheckHealthAsync(Cancel));
        Assert.True(await dapr.CheckOutboundHealthAsync(Cancel));
    }

    [Fact]
    public async Task An_http_request_with_the_right_token_is_served_and_the_token_is_not_forwarded_to_the_app()
    {
        using var metadata = await Sidecar.Http.SendAsync(Request("GET", "/v1.0/metadata", TokenSidecar.Token), Cancel);
        var method = "token-check-" + Guid.NewGuid().ToString("N")[..8];
        using var invoke = await Sidecar.Http.SendAsync(Request("POST", $"/v1.0/invoke/{Sidecar.AppId}/method/{method}", TokenSidecar.Token), Cancel);

        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        Assert.Equal(Sidecar.AppId, (await metadata.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(Cancel))!["id"]!.GetValue<string>());
        Assert.True(invoke.StatusCode == HttpStatusCode.OK, $"invoke answered {invoke.StatusCode}: {await invoke.Content.ReadAsStringAsync(Cancel)}");
        var received = Assert.Single(await fixture.App.WaitForAsync(r => r.Kind == "invoke" && r.Path == method));
        Assert.DoesNotContain("dapr-api-token", received.Headers.Keys);
    }

    [Fact]
    public async Task A_proxied_grpc_call_without_a_token_is_Unauthenticated()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{Sidecar.GrpcPort}");
        var echo = new Echo.EchoClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await echo.SayAsync(new SayRequest { Text = "hello" }, new Metadata { { "dapr-app-id", Sidecar.AppId } }, cancellationToken: Cancel));

        AssertUnauthenticated(error, MissingReason);
    }

    [Fact]
    public async Task A_proxied_grpc_call_with_the_right_token_reaches_the_app_without_the_token()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{Sidecar.GrpcPort}");
        var echo = new Echo.EchoClient(channel);

        var reply = await echo.SayAsync(new SayRequest { Text = "hello" },
            new Metadata { { "dapr-app-id", Sidecar.AppId }, { "dapr-api-token", TokenSidecar.Token } }, cancellationToken: Cancel);

        Assert.Equal("hello", reply.Text);
        Assert.Equal(Sidecar.AppId, reply.ServedBy);
        Assert.DoesNotContain("dapr-api-token", reply.Headers.Keys);
    }

    [Fact]
    public async Task The_sidecar_keeps_serving_after_refused_requests()
    {
        var grpc = Sidecar.CreateGrpcClient();
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<RpcException>(async () =>
                await grpc.GetMetadataAsync(new global::Dapr.Client.Autogen.Grpc.v1.GetMetadataRequest(), cancellationToken: Cancel));
            using var refused = await Sidecar.Http.SendAsync(Request("GET", "/v1.0/metadata", token: "wrong"), Cancel);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var dapr = Sidecar.CreateClient(TokenSidecar.Token);
        var key = Key();
        await dapr.SaveStateAsync(TokenSidecar.Store, key, 7, cancellationToken: Cancel);

        Assert.Equal(7, await dapr.GetStateAsync<int>(TokenSidecar.Store, key, cancellationToken: Cancel));
        Assert.False(Sidecar.HasExited);
    }

    private static void AssertUnauthenticated(RpcException error, string reason)
    {
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("Unauthorized", error.Status.Detail);
        var info = error.GetRpcStatus()?.GetDetail<ErrorInfo>();
        Assert.NotNull(info);
        Assert.Equal(reason, info.Metadata["http.error_message"]);
    }

    private static Metadata Token(string token) => new() { { "dapr-api-token", token } };

    private static HttpRequestMessage Request(string verb, string path, string? token)
    {
        var request = new HttpRequestMessage(new HttpMethod(verb), path);
        if (verb != "GET")
        {
            request.Content = new StringContent("{\"id\":1}", Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Add("dapr-api-token", token);
        }
        return request;
    }

    private static string Key() => "token-" + Guid.NewGuid().ToString("N")[..12];
}
