using System.Text.Json.Nodes;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>An invocation as it travels between sidecars and into the app: HTTP semantics whatever the app speaks.</summary>
public sealed record InvokeMessage(
    string Verb,
    string Method,
    string QueryString,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body,
    string? ContentType);

public sealed record InvokeResult(
    int Status,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body,
    string? ContentType);

/// <summary>What the app said about a delivered event (daprd's SUCCESS / RETRY / DROP).</summary>
public enum DeliveryStatus { Success, Retry, Drop, DropWithoutDeadLetter }

public sealed record DeliveryOutcome(DeliveryStatus Status, string? Reason = null, int? HttpStatus = null, Grpc.Core.StatusCode? GrpcStatus = null)
{
    public static readonly DeliveryOutcome Success = new(DeliveryStatus.Success);
}

/// <summary>One event for the app: the stored CloudEvent, the route it matched and the broker metadata.</summary>
public sealed record EventDelivery(
    string PubSubName,
    string Topic,
    string Path,
    byte[] RawCloudEvent,
    JsonObject CloudEvent,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>A subscription the app declared (programmatically) or a Subscription resource declared for it.</summary>
public sealed record AppSubscription(
    string PubSubName,
    string Topic,
    IReadOnlyList<(string? Match, string Path)> Rules,
    string? DeadLetterTopic,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>How the sidecar talks to its app: over HTTP, or over gRPC through the AppCallback service.</summary>
public interface IAppChannel : IAsyncDisposable
{
    Task<InvokeResult> InvokeAsync(InvokeMessage message, CancellationToken cancellationToken);

    Task<DeliveryOutcome> DeliverAsync(EventDelivery delivery, CancellationToken cancellationToken);

    Task<IReadOnlyList<AppSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken);

    Task<bool> IsHealthyAsync(string healthPath, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Header rules shared by every hop (RFC 9110 hop-by-hop headers, headers daprd strips or stamps itself).</summary>
public static class InvocationHeaders
{
    public const string ApiToken = "dapr-api-token";
    public const string AppId = "dapr-app-id";
    public const string CallerAppId = "dapr-caller-app-id";
    public const string CalleeAppId = "dapr-callee-app-id";
    public const string CallerNamespace = "dapr-caller-namespace";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "TE", "Trailer", "Proxy-Connection",
        "Proxy-Authenticate", "Proxy-Authorization", "Host", "Content-Length",
    };

    private static readonly HashSet<string> Stamped = new(StringComparer.OrdinalIgnoreCase)
    {
        ApiToken, AppId, "destination-app-id", CallerAppId, CalleeAppId, CallerNamespace,
    };

    /// <summary>True for headers that must not be copied to the next hop.</summary>
    public static bool IsHopByHop(string name) => HopByHop.Contains(name) || name.StartsWith(':');

    /// <summary>Headers copied from a caller's request: drops hop-by-hop headers and what the sidecar stamps itself.</summary>
    public static bool IsForwardable(string name) =>
        !IsHopByHop(name) && !Stamped.Contains(name) && !name.EndsWith("-bin", StringComparison.OrdinalIgnoreCase);
}
