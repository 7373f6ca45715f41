using System.Text.Json.Nodes;
using Dapr.Client.Autogen.Grpc.v1;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Messaging;

namespace Ovasabi.DevSidecar.Api;

/// <summary>The metadata API (gRPC GetMetadata and HTTP <c>/v1.0/metadata</c>): app ID, components, subscriptions, app connection.</summary>
public sealed class MetadataApi(SidecarOptions options, ComponentRegistry components, SubscriptionManager subscriptions)
{
    /// <summary>Reported as the runtime version: the daprd API level this sidecar follows, marked as the dev sidecar.</summary>
    public const string RuntimeVersion = "1.19.0-ovasabi-dev-sidecar";

    private static IEnumerable<string> Capabilities(LoadedComponent component) => component.Instance switch
    {
        IStateStore store => store.Features,
        IOutputBinding => ["OUTPUT"],
        _ => [],
    };

    public GetMetadataResponse Build()
    {
        var response = new GetMetadataResponse
        {
            Id = options.AppId,
            RuntimeVersion = RuntimeVersion,
            AppConnectionProperties = new AppConnectionProperties
            {
                Port = options.AppPort,
                Protocol = options.AppProtocol,
                ChannelAddress = options.AppChannelAddress,
                MaxConcurrency = Math.Max(0, options.AppMaxConcurrency),
            },
        };
        response.ExtendedMetadata["daprRuntimeVersion"] = RuntimeVersion;
        foreach (var component in components.All.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var registered = new RegisteredComponents { Name = component.Name, Type = component.Definition.Type, Version = component.Definition.Version };
            registered.Capabilities.AddRange(Capabilities(component));
            response.RegisteredComponents.Add(registered);
        }
        foreach (var active in subscriptions.Active)
        {
            var subscription = new PubsubSubscription
            {
                PubsubName = active.Declared.PubSubName,
                Topic = active.Declared.Topic,
                DeadLetterTopic = active.Declared.DeadLetterTopic ?? "",
                Type = active.Declarative ? PubsubSubscriptionType.Declarative : PubsubSubscriptionType.Programmatic,
                Rules = new PubsubSubscriptionRules(),
            };
            subscription.Metadata.AddAll(active.Declared.Metadata);
            subscription.Rules.Rules.AddRange(active.Declared.Rules.Select(r => new PubsubSubscriptionRule { Match = r.Match ?? "", Path = r.Path }));
            response.Subscriptions.Add(subscription);
        }
        return response;
    }

    /// <summary>The HTTP shape daprd answers on <c>GET /v1.0/metadata</c>.</summary>
    public JsonObject BuildJson()
    {
        var grpc = Build();
        return new JsonObject
        {
            ["id"] = grpc.Id,
            ["runtimeVersion"] = grpc.RuntimeVersion,
            ["enabledFeatures"] = new JsonArray(),
            ["actors"] = new JsonArray(),
            ["components"] = new JsonArray(grpc.RegisteredComponents.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["version"] = c.Version,
                ["capabilities"] = new JsonArray(c.Capabilities.Select(x => (JsonNode)x!).ToArray()),
            }).ToArray()),
            ["extended"] = new JsonObject { ["daprRuntimeVersion"] = RuntimeVersion },
            ["subscriptions"] = new JsonArray(grpc.Subscriptions.Select(s => (JsonNode)new JsonObject
            {
                ["pubsubname"] = s.PubsubName,
                ["topic"] = s.Topic,
                ["deadLetterTopic"] = s.DeadLetterTopic,
                ["type"] = s.Type == PubsubSubscriptionType.Declarative ? "DECLARATIVE" : "PROGRAMMATIC",
                ["metadata"] = new JsonObject(s.Metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                ["rules"] = new JsonArray(s.Rules.Rules.Select(r => (JsonNode)new JsonObject { ["match"] = r.Match, ["path"] = r.Path }).ToArray()),
            }).ToArray()),
            ["appConnectionProperties"] = new JsonObject
            {
                ["port"] = grpc.AppConnectionProperties.Port,
                ["protocol"] = grpc.AppConnectionProperties.Protocol,
                ["channelAddress"] = grpc.AppConnectionProperties.ChannelAddress,
                ["maxConcurrency"] = grpc.AppConnectionProperties.MaxConcurrency,
            },
        };
    }
}
