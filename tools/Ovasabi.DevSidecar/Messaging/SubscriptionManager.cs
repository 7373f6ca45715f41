using System.Diagnostics;
using System.Text.Json.Nodes;
using Ovasabi.DevSidecar.Api;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Invocation;
using Ovasabi.DevSidecar.Observability;
using Ovasabi.DevSidecar.Resiliency;
using Ovasabi.DevSidecar.Resources;

namespace Ovasabi.DevSidecar.Messaging;

/// <summary>The Subscription resources that apply to this app, checked when the sidecar starts.</summary>
public sealed record DeclarativeSubscriptions(IReadOnlyList<AppSubscription> All)
{
    /// <exception cref="ResourceException">a Subscription lacks pubsubname, topic or a route, or a rule is not understood</exception>
    public static DeclarativeSubscriptions From(ResourceSet resources) => new(resources.Subscriptions.Select(Read).ToList());

    private static AppSubscription Read(Loaded<SubscriptionResource> resource)
    {
        var spec = resource.Resource.Spec ?? throw new ResourceException(resource.File, "spec", $"subscription '{resource.Name}' has no spec");
        if (string.IsNullOrEmpty(spec.Pubsubname) || string.IsNullOrEmpty(spec.Topic))
        {
            throw new ResourceException(resource.File, "spec.pubsubname/spec.topic", $"subscription '{resource.Name}' needs pubsubname and topic");
        }
        var subscription = AppSubscription.From(spec);
        if (subscription.Rules.Count == 0)
        {
            throw new ResourceException(resource.File, "spec.routes", $"subscription '{resource.Name}' has no route");
        }
        foreach (var (match, index) in subscription.Rules.Select((r, i) => (r.Match, i)).Where(r => !string.IsNullOrWhiteSpace(r.Match)))
        {
            try
            {
                RouteExpression.Parse(match!);
            }
            catch (FormatException e)
            {
                throw new ResourceException(resource.File, $"spec.routes.rules[{index}].match", e.Message);
            }
        }
        return subscription;
    }
}

/// <summary>A subscription the sidecar consumes for its app, with its compiled routing rules.</summary>
public sealed record ActiveSubscription(AppSubscription Declared, IReadOnlyList<(RouteExpression? Match, string Path)> Rules, bool Declarative);

/// <summary>
/// Discovers the app's subscriptions once it is up (AppCallback or <c>/dapr/subscribe</c>, plus Subscription resources),
/// consumes them as the app ID's consumer group and delivers each message with daprd's outcomes:
/// SUCCESS acks; RETRY and errors retry per the component's inbound Resiliency policy (none → no retry);
/// DROP, a 404, expiry and exhausted retries go to the dead-letter topic when one is set.
/// </summary>
public sealed class SubscriptionManager(
    SidecarOptions options,
    ComponentRegistry components,
    DeclarativeSubscriptions declarative,
    ResiliencyPolicies resiliency,
    AppConnection app,
    PubSubApi publisher,
    SidecarMetrics metrics,
    TimeProvider time,
    ILogger<SubscriptionManager> logger) : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _consumers = [];
    private readonly List<ActiveSubscription> _active = [];

    public IReadOnlyList<ActiveSubscription> Active
    {
        get
        {
            lock (_active)
            {
                return [.. _active];
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (app.Channel is not { } channel)
        {
            // Like daprd without --app-port: nobody to deliver to, so nothing is consumed.
            return;
        }
        var declared = new List<(AppSubscription Subscription, bool Declarative)>();
        declared.AddRange((await DiscoverAsync(channel, cancellationToken)).Select(s => (s, false)));
        declared.AddRange(declarative.All.Select(s => (s, true)));

        foreach (var group in declared.GroupBy(d => (d.Subscription.PubSubName, d.Subscription.Topic)))
        {
            var (subscription, declarative) = group.First();
            if (group.Count() > 1)
            {
                logger.LogWarning("Topic {Topic} on {PubSub} is subscribed more than once; using the first subscription", subscription.Topic, subscription.PubSubName);
            }
            if (!components.TryGet(subscription.PubSubName, ComponentKind.PubSub, out var component))
            {
                logger.LogWarning("Subscription to {Topic} names pubsub {PubSub}, which is not loaded; skipped", subscription.Topic, subscription.PubSubName);
                continue;
            }
            if (!TopicScopes.From(component.Definition.Metadata).MaySubscribe(options.AppId, subscription.Topic))
            {
                logger.LogWarning("App {AppId} may not subscribe to {Topic} on {PubSub} (subscriptionScopes); skipped", options.AppId, subscription.Topic, subscription.PubSubName);
                continue;
            }
            ActiveSubscription active;
            try
            {
                active = new ActiveSubscription(subscription,
                    subscription.Rules.Select(r => (string.IsNullOrWhiteSpace(r.Match) ? null : RouteExpression.Parse(r.Match), r.Path)).ToList(),
                    declarative);
            }
            catch (FormatException e)
            {
                logger.LogError("Subscription to {Topic} on {PubSub} refused: {Reason}", subscription.Topic, subscription.PubSubName, e.Message);
                continue;
            }
            var consumer = await ((IPubSub)component.Instance).SubscribeAsync(subscription.Topic,
                (message, ct) => HandleAsync(channel, component, active, message, ct), cancellationToken);
            lock (_active)
            {
                _consumers.Add(consumer);
                _active.Add(active);
            }
            logger.LogInformation("Subscribed to {Topic} on {PubSub}", subscription.Topic, subscription.PubSubName);
        }
    }

    /// <summary>Asks the app for its subscriptions, with daprd's built-in retries (3 tries, 500 ms growing, within 10 s).</summary>
    private async Task<IReadOnlyList<AppSubscription>> DiscoverAsync(IAppChannel channel, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                return await channel.ListSubscriptionsAsync(timeout.Token);
            }
            catch (Exception e) when (attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not get subscriptions from the app (attempt {Attempt}): {Reason}", attempt, e.Message);
                await Task.Delay(delay, time, cancellationToken);
                delay *= 2;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogError("Could not get subscriptions from the app: {Reason}; none are active", e.Message);
                return [];
            }
        }
    }

    private async Task HandleAsync(IAppChannel channel, LoadedComponent component, ActiveSubscription subscription, PubSubMessage message, CancellationToken cancellationToken)
    {
        var declared = subscription.Declared;
        var cloudEvent = CloudEvents.IsRawPayload(declared.Metadata)
            ? CloudEvents.ForRawPayload(component.Name, message.Topic, message.Data, message.Metadata)
            : CloudEvents.ParseObject(message.Data);
        if (cloudEvent is null)
        {
            await DeadLetterOrFailAsync(component, declared, message, "the message is not a JSON CloudEvent", cancellationToken);
            return;
        }
        if (CloudEvents.IsExpired(cloudEvent, time.GetUtcNow()))
        {
            logger.LogWarning("Dropping expired message {Id} on {Topic}", Text(cloudEvent, "id"), message.Topic);
            await DeadLetterAsync(component, declared, message, cancellationToken);
            return;
        }
        var path = subscription.Rules.FirstOrDefault(r => r.Match is null || r.Match.Matches(cloudEvent)).Path;
        if (path is null)
        {
            logger.LogDebug("No route matched message {Id} on {Topic}; acknowledged", Text(cloudEvent, "id"), message.Topic);
            await DeadLetterAsync(component, declared, message, cancellationToken);
            return;
        }

        using var activity = StartDeliveryActivity(cloudEvent, message.Topic);
        var metadata = new Dictionary<string, string>(message.Metadata, StringComparer.OrdinalIgnoreCase)
        {
            ["pubsubName"] = component.Name,
            ["traceparent"] = activity?.Id ?? Text(cloudEvent, "traceparent"),
        };
        if ((activity?.TraceStateString ?? Text(cloudEvent, "tracestate")) is { Length: > 0 } traceState)
        {
            metadata["tracestate"] = traceState;
        }
        var delivery = new EventDelivery(component.Name, message.Topic, path,
            CloudEvents.IsRawPayload(declared.Metadata) ? System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(cloudEvent) : message.Data,
            cloudEvent, metadata);
        var policy = resiliency.ForComponentInbound(component.Name, "Pubsub");
        var started = time.GetTimestamp();
        async Task<DeliveryOutcome> DeliverOnceAsync(CancellationToken ct)
        {
            using var slot = await app.EnterAsync(ct);
            return app.IsHealthy
                ? await channel.DeliverAsync(delivery, ct)
                : new DeliveryOutcome(DeliveryStatus.Retry, "app is not in a healthy state");
        }
        DeliveryOutcome outcome;
        try
        {
            outcome = policy is null
                ? await DeliverOnceAsync(cancellationToken)
                : await policy.ExecuteAsync(async ct =>
                {
                    var attempt = await DeliverOnceAsync(ct);
                    return attempt.Status == DeliveryStatus.Retry
                        ? throw new FailedOutcomeException(attempt.Reason ?? "retry", attempt.HttpStatus, attempt.GrpcStatus, attempt)
                        : attempt;
                }, cancellationToken);
        }
        catch (FailedOutcomeException e) when (e.Outcome is DeliveryOutcome last)
        {
            outcome = last;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            outcome = new DeliveryOutcome(DeliveryStatus.Retry, e.Message);
        }
        metrics.Delivered(component.Name, message.Topic, outcome.Status.ToString().ToLowerInvariant(), time.GetElapsedTime(started));

        switch (outcome.Status)
        {
            case DeliveryStatus.Success:
                return;
            case DeliveryStatus.DropWithoutDeadLetter:
                logger.LogWarning("Message {Id} on {Topic} dropped: {Reason}", Text(cloudEvent, "id"), message.Topic, outcome.Reason);
                return;
            case DeliveryStatus.Drop:
                logger.LogWarning("Message {Id} on {Topic} dropped by the app: {Reason}", Text(cloudEvent, "id"), message.Topic, outcome.Reason);
                await DeadLetterAsync(component, declared, message, cancellationToken);
                return;
            default:
                await DeadLetterOrFailAsync(component, declared, message,
                    $"delivery of {Text(cloudEvent, "id")} failed{(policy?.HasRetry == true ? " after retries" : "")}: {outcome.Reason}", cancellationToken);
                return;
        }
    }

    private async Task DeadLetterOrFailAsync(LoadedComponent component, AppSubscription subscription, PubSubMessage message, string reason, CancellationToken cancellationToken)
    {
        if (subscription.DeadLetterTopic is null)
        {
            // The broker acknowledges anyway (components-contrib ≥ 1.17); the error is logged.
            throw new InvalidOperationException(reason);
        }
        logger.LogWarning("{Reason}; forwarding to dead-letter topic {DeadLetter}", reason, subscription.DeadLetterTopic);
        await DeadLetterAsync(component, subscription, message, cancellationToken);
    }

    private async Task DeadLetterAsync(LoadedComponent component, AppSubscription subscription, PubSubMessage message, CancellationToken cancellationToken)
    {
        if (subscription.DeadLetterTopic is { } deadLetter)
        {
            await publisher.SendAsync(component, message with { Topic = deadLetter }, cancellationToken);
        }
    }

    private static Activity? StartDeliveryActivity(JsonObject cloudEvent, string topic)
    {
        var parent = Text(cloudEvent, "traceparent") is { Length: > 0 } traceparent ? traceparent : Text(cloudEvent, "traceid");
        ActivityContext.TryParse(parent, Text(cloudEvent, "tracestate"), out var context);
        return SidecarMetrics.ActivitySource.StartActivity($"pubsub/{topic}", ActivityKind.Consumer, context);
    }

    private static string Text(JsonObject cloudEvent, string name) =>
        cloudEvent[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : "";

    public async ValueTask DisposeAsync()
    {
        IAsyncDisposable[] consumers;
        lock (_active)
        {
            consumers = [.. _consumers];
            _consumers.Clear();
            _active.Clear();
        }
        foreach (var consumer in consumers)
        {
            await consumer.DisposeAsync();
        }
    }
}
