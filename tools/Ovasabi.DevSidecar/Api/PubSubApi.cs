using System.Diagnostics;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Observability;
using Ovasabi.DevSidecar.Messaging;
using Ovasabi.DevSidecar.Resiliency;

namespace Ovasabi.DevSidecar.Api;

/// <summary>Publishing, shared by the gRPC and HTTP front ends and by dead-letter forwarding.</summary>
public sealed class PubSubApi(ComponentRegistry components, ResiliencyPolicies resiliency, SidecarOptions options, TimeProvider time, SidecarMetrics metrics)
{
    public LoadedComponent Resolve(string pubsubName)
    {
        if (string.IsNullOrEmpty(pubsubName))
        {
            throw DaprErrors.PubSubEmpty();
        }
        if (!components.OfKind(ComponentKind.PubSub).Any())
        {
            throw DaprErrors.PubSubNotConfigured(pubsubName);
        }
        return components.TryGet(pubsubName, ComponentKind.PubSub, out var component)
            ? component
            : throw DaprErrors.PubSubNotFound(pubsubName);
    }

    /// <summary>Checks a topic name and this app's right to publish to it (publishingScopes, allowedTopics, protectedTopics).</summary>
    public LoadedComponent ResolveForPublish(string pubsubName, string topic)
    {
        var component = Resolve(pubsubName);
        if (string.IsNullOrEmpty(topic))
        {
            throw DaprErrors.TopicEmpty(pubsubName, component.Definition.Type);
        }
        if (!TopicScopes.From(component.Definition.Metadata).MayPublish(options.AppId, topic))
        {
            throw DaprErrors.TopicForbidden(pubsubName, component.Definition.Type, topic, options.AppId);
        }
        return component;
    }

    public async Task PublishAsync(string pubsubName, string topic, byte[] data, string? contentType,
        IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var component = ResolveForPublish(pubsubName, topic);
        var message = Envelope(component, topic, data, contentType, metadata);
        await SendAsync(component, message, cancellationToken);
    }

    /// <summary>The broker message for a publish request: a CloudEvent unless <c>rawPayload</c> is set.</summary>
    public PubSubMessage Envelope(LoadedComponent component, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata)
    {
        try
        {
            CloudEvents.ValidateMetadata(metadata);
        }
        catch (FormatException e)
        {
            throw DaprErrors.PublishMetadata(component.Name, component.Definition.Type, e.Message);
        }
        var brokerMetadata = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        if (CloudEvents.IsRawPayload(metadata))
        {
            brokerMetadata.TryAdd("traceid", Activity.Current?.Id ?? "");
            brokerMetadata.TryAdd("tracestate", Activity.Current?.TraceStateString ?? "");
            return new PubSubMessage(topic, data, brokerMetadata);
        }
        try
        {
            var envelope = CloudEvents.Wrap(new PublishEnvelope(options.AppId, component.Name, topic, data, contentType, metadata), Activity.Current, time.GetUtcNow());
            return new PubSubMessage(topic, envelope, brokerMetadata);
        }
        catch (FormatException)
        {
            throw DaprErrors.CloudEventCreation(component.Name, component.Definition.Type);
        }
    }

    /// <summary>Sends a prepared message through the component's outbound policy.</summary>
    public async Task SendAsync(LoadedComponent component, PubSubMessage message, CancellationToken cancellationToken)
    {
        var policy = resiliency.ForComponentOutbound(component.Name, "Pubsub") ?? ResiliencePolicy.None;
        try
        {
            await policy.ExecuteAsync(async ct => await ((IPubSub)component.Instance).PublishAsync(message, ct), cancellationToken);
            metrics.Published(component.Name, message.Topic, success: true);
        }
        catch (Exception e) when (e is not (DaprError or OperationCanceledException))
        {
            metrics.Published(component.Name, message.Topic, success: false);
            throw DaprErrors.PublishFailed(component.Name, component.Definition.Type, message.Topic, e.Message);
        }
    }
}

/// <summary>A pubsub component's topic scoping metadata (daprd's <c>publishingScopes</c>, <c>subscriptionScopes</c>, <c>allowedTopics</c>, <c>protectedTopics</c>).</summary>
public sealed class TopicScopes
{
    private readonly Dictionary<string, HashSet<string>> _publishing;
    private readonly Dictionary<string, HashSet<string>> _subscribing;
    private readonly HashSet<string>? _allowed;
    private readonly HashSet<string> _protected;

    private TopicScopes(ComponentMetadata metadata)
    {
        _publishing = AppTopics(metadata.Get("publishingScopes"));
        _subscribing = AppTopics(metadata.Get("subscriptionScopes"));
        _allowed = metadata.Get("allowedTopics") is { } allowed ? Topics(allowed) : null;
        _protected = Topics(metadata.Get("protectedTopics") ?? "");
    }

    public static TopicScopes From(ComponentMetadata metadata) => new(metadata);

    public bool MayPublish(string appId, string topic) => May(_publishing, appId, topic);

    public bool MaySubscribe(string appId, string topic) => May(_subscribing, appId, topic);

    private bool May(Dictionary<string, HashSet<string>> scopes, string appId, string topic)
    {
        if (scopes.TryGetValue(appId, out var topics))
        {
            return topics.Contains(topic);
        }
        if (_protected.Contains(topic))
        {
            return false;
        }
        return _allowed is null || _allowed.Contains(topic);
    }

    private static HashSet<string> Topics(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>Parses <c>app1=t1,t2;app2=t3</c>.</summary>
    private static Dictionary<string, HashSet<string>> AppTopics(string? value)
    {
        var result = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var entry in (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('=', 2);
            result[parts[0]] = Topics(parts.Length == 2 ? parts[1] : "");
        }
        return result;
    }
}
