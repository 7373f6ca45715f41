using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapr;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client.Autogen.Grpc.v1;
using Grpc.Core;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// A sidecar with redis state and pub/sub, a component scoped to another app, a declarative Subscription, and a gRPC app
/// that subscribes programmatically.
/// </summary>
public sealed class MetadataSidecar(RedisServer redis) : SidecarFixture
{
    public const string Store = "statestore";
    public const string PubSub = "pubsub";
    public const string ScopedStore = "otherstore";

    public SidecarProcess Sidecar { get; private set; } = null!;

    public CallbackApp App { get; private set; } = null!;

    protected override async Task StartAsync()
    {
        Resources
            .RedisState(Store, redis)
            .RedisPubSub(PubSub, redis)
            .Component(ScopedStore, "state.redis", new Dictionary<string, string> { ["redisHost"] = redis.Endpoint }, scopes: ["other-app"])
            .Add("audit-subscription.yaml", $"""
                apiVersion: dapr.io/v2alpha1
                kind: Subscription
                metadata:
                  name: audit
                spec:
                  pubsubname: {PubSub}
                  topic: audit
                  routes:
                    default: /audit
                  deadLetterTopic: audit-dead
                """);
        App = Own(await CallbackApp.StartAsync(UniqueName.Create("metadata"), app =>
        {
            var orders = new TopicSubscription { PubsubName = PubSub, Topic = "orders", DeadLetterTopic = "orders-dead" };
            orders.Metadata["rawPayload"] = "false";
            orders.Routes = new TopicRoutes { Default = "/orders" };
            orders.Routes.Rules.Add(new TopicRule { Match = "event.type == \"order.created\"", Path = "/orders/created" });
            app.Subscriptions.Add(orders);
        }));
        Sidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(App.AppId, Resources.Directory) { AppPort = App.Port }));
        await Sidecar.WaitReadyAsync();
    }
}

/// <summary>The metadata API (SDK GetMetadataAsync, gRPC GetMetadata and HTTP /v1.0/metadata).</summary>
public sealed class MetadataContractTests(MetadataSidecar fixture) : IClassFixture<MetadataSidecar>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private SidecarProcess Sidecar => fixture.Sidecar;

    [Fact]
    public async Task The_SDK_reads_the_app_id_and_every_loaded_component_with_type_version_and_capabilities()
    {
        using var dapr = Sidecar.CreateClient();

        var metadata = await dapr.GetMetadataAsync(Cancel);

        Assert.Equal(Sidecar.AppId, metadata.Id);
        Assert.Equal([MetadataSidecar.PubSub, MetadataSidecar.Store], metadata.Components.Select(c => c.Name).Order(StringComparer.Ordinal));
        var store = metadata.Components.Single(c => c.Name == MetadataSidecar.Store);
        Assert.Equal("state.redis", store.Type);
        Assert.Equal("v1", store.Version);
        Assert.Superset(new HashSet<string> { "ETAG", "TRANSACTIONAL", "TTL" }, store.Capabilities.ToHashSet());
        var pubsub = metadata.Components.Single(c => c.Name == MetadataSidecar.PubSub);
        Assert.Equal(("pubsub.redis", "v1"), (pubsub.Type, pubsub.Version));
        Assert.True(metadata.Extended.ContainsKey("daprRuntimeVersion"));
    }

    [Fact]
    public async Task A_component_scoped_to_another_app_is_not_loaded()
    {
        using var dapr = Sidecar.CreateClient();

        var metadata = await dapr.GetMetadataAsync(Cancel);
        var error = await Assert.ThrowsAsync<DaprException>(() => dapr.GetStateAsync<string>(MetadataSidecar.ScopedStore, "k", cancellationToken: Cancel));

        Assert.DoesNotContain(metadata.Components, c => c.Name == MetadataSidecar.ScopedStore);
        var rpc = Assert.IsType<RpcException>(error.InnerException);
        Assert.Equal(StatusCode.InvalidArgument, rpc.StatusCode);
        Assert.Equal($"state store {MetadataSidecar.ScopedStore} is not found", rpc.Status.Detail);
    }

    [Fact]
    public async Task Grpc_GetMetadata_lists_programmatic_and_declarative_subscriptions_and_the_app_connection()
    {
        var metadata = await Sidecar.CreateGrpcClient().GetMetadataAsync(new GetMetadataRequest(), cancellationToken: Cancel);

        var orders = metadata.Subscriptions.Single(s => s.Topic == "orders");
        Assert.Equal(MetadataSidecar.PubSub, orders.PubsubName);
        Assert.Equal(PubsubSubscriptionType.Programmatic, orders.Type);
        Assert.Equal("orders-dead", orders.DeadLetterTopic);
        Assert.Equal("false", orders.Metadata["rawPayload"]);
        Assert.Equal(
            [("event.type == \"order.created\"", "/orders/created"), ("", "/orders")],
            orders.Rules.Rules.Select(r => (r.Match, r.Path)));

        var audit = metadata.Subscriptions.Single(s => s.Topic == "audit");
        Assert.Equal(PubsubSubscriptionType.Declarative, audit.Type);
        Assert.Equal("audit-dead", audit.DeadLetterTopic);
        Assert.Equal(["/audit"], audit.Rules.Rules.Select(r => r.Path));

        Assert.Equal(fixture.App.Port, metadata.AppConnectionProperties.Port);
        Assert.Equal("grpc", metadata.AppConnectionProperties.Protocol);
        Assert.Equal("127.0.0.1", metadata.AppConnectionProperties.ChannelAddress);
        Assert.Equal(Sidecar.AppId, metadata.Id);
        Assert.False(string.IsNullOrEmpty(metadata.RuntimeVersion));
    }

    [Fact]
    public async Task Http_metadata_answers_daprd_json_shape_with_components_subscriptions_and_app_connection()
    {
        var metadata = (await Sidecar.Http.GetFromJsonAsync<JsonObject>("/v1.0/metadata", Cancel))!;

        Assert.Equal(Sidecar.AppId, metadata["id"]!.GetValue<string>());
        var store = metadata["components"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == MetadataSidecar.Store)!;
        Assert.Equal("state.redis", store["type"]!.GetValue<string>());
        Assert.Equal("v1", store["version"]!.GetValue<string>());
        Assert.Superset(new HashSet<string> { "ETAG", "TRANSACTIONAL", "TTL" },
            store["capabilities"]!.AsArray().Select(c => c!.GetValue<string>()).ToHashSet());
        Assert.DoesNotContain(metadata["components"]!.AsArray(), c => c!["name"]!.GetValue<string>() == MetadataSidecar.ScopedStore);

        var subscriptions = metadata["subscriptions"]!.AsArray();
        var orders = subscriptions.Single(s => s!["topic"]!.GetValue<string>() == "orders")!;
        Assert.Equal(MetadataSidecar.PubSub, orders["pubsubname"]!.GetValue<string>());
        Assert.Equal("PROGRAMMATIC", orders["type"]!.GetValue<string>());
        Assert.Equal("orders-dead", orders["deadLetterTopic"]!.GetValue<string>());
        Assert.Equal("/orders/created", orders["rules"]![0]!["path"]!.GetValue<string>());
        var audit = subscriptions.Single(s => s!["topic"]!.GetValue<string>() == "audit")!;
        Assert.Equal("DECLARATIVE", audit["type"]!.GetValue<string>());

        var connection = metadata["appConnectionProperties"]!;
        Assert.Equal(fixture.App.Port, connection["port"]!.GetValue<int>());
        Assert.Equal("grpc", connection["protocol"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", connection["channelAddress"]!.GetValue<string>());
    }
}
