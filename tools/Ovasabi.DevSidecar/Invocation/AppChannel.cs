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
    string? ContentType)
{
    /// <summary>An HTTP answer as it travels back: status, end-to-end headers and body, unchanged.</summary>
    public static async Task<InvokeResult> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(h => !InvocationHeaders.IsHopByHop(h.Key))
            .SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v)))
            .ToList();
        return new InvokeResult((int)response.StatusCode, headers, body, response.Content.Headers.ContentType?.ToString());
    }
}

/// <summary>What the app said about a delivered event (daprd's SUCCESS / RETRY / DROP).</summary>
public enum DeliveryStatus { Success, Retry, Drop, DropWithoutDeadLetter }

public sealed record DeliveryOutcome(DeliveryStatus Status, string? Reason = null, int? HttpStatus = null, Grpc.Core.StatusCode? GrpcStatus = null)
{
    public static readonly DeliveryOutcome Success = new(DeliveryStatus.Success);
}

/// <summary>What came of a job trigger: daprd counts an app's "not found" as delivered, every other failure goes to the job's failure policy.</summary>
public sealed record JobTriggerOutcome(bool Delivered, string? Problem = null)
{
    public static readonly JobTriggerOutcome Success = new(true);
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
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>daprd's rule list: the rules that have a path, in order, then the default route (or v1's single route).</summary>
    public static List<(string? Match, string Path)> Routes(IEnumerable<(string? Match, string? Path)> rules, string? fallback)
    {
        var routes = rules.Where(r => !string.IsNullOrEmpty(r.Path)).Select(r => (r.Match, r.Path!)).ToList();
        if (!string.IsNullOrEmpty(fallback))
        {
            routes.Add((null, fallback));
        }
        return routes;
    }

    /// <summary>A subscription in the shape <c>/dapr/subscribe</c> and Subscription resources share.</summary>
    public static AppSubscription From(Resources.SubscriptionSpecModel spec) =>
        new(spec.Pubsubname ?? "", spec.Topic ?? "",
            Routes((spec.Routes?.Rules ?? []).Select(r => (r.Match, r.Path)), spec.Routes?.Default ?? spec.Route),
            string.IsNullOrEmpty(spec.DeadLetterTopic) ? null : spec.DeadLetterTopic,
            spec.Metadata ?? new Dictionary<string, string>());
}

/// <summary>How the sidecar talks to its app: over HTTP, or over gRPC through the AppCallback service.</summary>
public interface IAppChannel : IAsyncDisposable
{
    Task<InvokeResult> InvokeAsync(InvokeMessage message, CancellationToken cancellationToken);

    Task<DeliveryOutcome> DeliverAsync(EventDelivery delivery, CancellationToken cancellationToken);

    Task<IReadOnlyList<AppSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken);

    /// <summary>Delivers a Jobs API trigger; <paramref name="data"/> is the job's stored payload, null when it has none.</summary>
    Task<JobTriggerOutcome> TriggerJobAsync(string name, Google.Protobuf.WellKnownTypes.Any? data, CancellationToken cancellationToken);

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

    /// <summary>Adds headers to a request, content headers (Content-Type, ...) to its content.</summary>
    public static void CopyTo(HttpRequestMessage request, IEnumerable<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    /// <summary>True for headers that must not be copied to the next hop.</summary>
    public static bool IsHopByHop(string name) => HopByHop.Contains(name) || name.StartsWith(':');

    /// <summary>Headers copied from a caller's request: drops hop-by-hop headers and what the sidecar stamps itself.</summary>
    public static bool IsForwardable(string name) =>
        !IsHopByHop(name) && !Stamped.Contains(name) && !name.EndsWith("-bin", StringComparison.OrdinalIgnoreCase);
}
