namespace Ovasabi.DevSidecar.Components;

/// <summary>A component as declared in a resources file, with every metadata value already resolved.</summary>
public sealed record ComponentDefinition(
    string Name,
    string Type,
    string Version,
    ComponentMetadata Metadata,
    string SourceFile,
    IReadOnlyList<string> Scopes,
    bool IgnoreErrors = false,
    TimeSpan? InitTimeout = null);

/// <summary>What a component may know about the sidecar that hosts it.</summary>
public sealed record ComponentContext(
    string AppId,
    string? Namespace,
    string WorkingDirectory,
    ILoggerFactory LoggerFactory,
    TimeProvider Time);

/// <summary>Every component can be initialised (connect, create tables, check access) and closed.</summary>
public interface IComponent : IAsyncDisposable
{
    /// <summary>Called once before the sidecar serves; a failure stops the sidecar unless the component ignores errors.</summary>
    Task InitAsync(CancellationToken cancellationToken);
}

/// <summary>Features a state store reports through the metadata API (daprd's capability strings).</summary>
public static class StateFeatures
{
    public const string ETag = "ETAG";
    public const string Transactional = "TRANSACTIONAL";
    public const string Ttl = "TTL";
}

public enum StateConcurrency { Unspecified = 0, FirstWrite = 1, LastWrite = 2 }

public enum StateConsistency { Unspecified = 0, Eventual = 1, Strong = 2 }

/// <summary>A stored value. <paramref name="Metadata"/> carries e.g. <c>ttlExpireTime</c> where the store reports it.</summary>
public sealed record StateEntry(byte[] Value, string? ETag, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// A write of one key. <paramref name="Key"/> is the full stored key (already prefixed, e.g. <c>app||key</c>).
/// <paramref name="ETag"/> is null when the caller sent none (an empty etag counts as none).
/// <paramref name="IsJson"/> is true when the caller said <c>contentType=application/json</c>.
/// </summary>
public sealed record StateSetRequest(
    string Key,
    byte[] Value,
    string? ETag,
    StateConcurrency Concurrency,
    StateConsistency Consistency,
    IReadOnlyDictionary<string, string> Metadata,
    bool IsJson = false)
{
    /// <summary><c>ttlInSeconds</c> from the request metadata, when present and valid.</summary>
    public int? TtlInSeconds => StateRequestMetadata.TtlInSeconds(Metadata);
}

public sealed record StateDeleteRequest(
    string Key,
    string? ETag,
    StateConcurrency Concurrency,
    StateConsistency Consistency,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>One operation of a state transaction.</summary>
public abstract record StateOperation(string Key);

public sealed record StateUpsert(StateSetRequest Request) : StateOperation(Request.Key);

public sealed record StateDelete(StateDeleteRequest Request) : StateOperation(Request.Key);

public interface IStateStore : IComponent
{
    IReadOnlyCollection<string> Features { get; }

    /// <summary>The entry, or null when the key does not exist (or has expired).</summary>
    Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken);

    /// <exception cref="ETagMismatchException">the etag does not match the stored version</exception>
    /// <exception cref="ETagInvalidException">the etag cannot be a version of this store</exception>
    Task SetAsync(StateSetRequest request, CancellationToken cancellationToken);

    /// <exception cref="ETagMismatchException">the etag does not match the stored version</exception>
    /// <exception cref="ETagInvalidException">the etag cannot be a version of this store</exception>
    Task DeleteAsync(StateDeleteRequest request, CancellationToken cancellationToken);

    /// <summary>Applies the operations in order with the store's transaction semantics.</summary>
    Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);
}

/// <summary>Thrown by state stores; the API layer maps each to daprd's status codes.</summary>
public class StateStoreException(string message, Exception? inner = null) : Exception(message, inner);

public sealed class ETagMismatchException(string message = "possible etag mismatch. error from state store") : StateStoreException(message);

public sealed class ETagInvalidException(string message = "invalid etag value") : StateStoreException(message);

/// <summary>A message as the broker stores it: the (CloudEvent) bytes plus broker metadata.</summary>
public sealed record PubSubMessage(string Topic, byte[] Data, IReadOnlyDictionary<string, string> Metadata);

/// <summary>Handles one message. Returning acknowledges it; throwing reports an error to the component.</summary>
public delegate Task PubSubHandler(PubSubMessage message, CancellationToken cancellationToken);

public interface IPubSub : IComponent
{
    Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Starts consuming <paramref name="topic"/> as this sidecar's consumer group. Dispose the result to stop.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(string topic, PubSubHandler handler, CancellationToken cancellationToken);
}

public sealed record BindingRequest(string Operation, byte[] Data, IReadOnlyDictionary<string, string> Metadata);

public sealed record BindingResponse(byte[] Data, IReadOnlyDictionary<string, string> Metadata)
{
    public static BindingResponse Empty(IReadOnlyDictionary<string, string>? metadata = null) =>
        new([], metadata ?? new Dictionary<string, string>());
}

/// <summary>
/// An error of a binding operation, reported to the caller as daprd does (Internal). <see cref="Response"/> is what
/// the component got back all the same (bindings.http's non-2xx answer): daprd still sends its metadata as headers.
/// </summary>
public sealed class BindingException(string message, Exception? inner = null, BindingResponse? response = null) : Exception(message, inner)
{
    public BindingResponse? Response { get; } = response;
}

public interface IOutputBinding : IComponent
{
    IReadOnlyList<string> Operations { get; }

    /// <exception cref="BindingException">the operation failed</exception>
    Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken);
}

public interface ISecretStore : IComponent
{
    /// <summary>The secret's entries, or null when there is no such secret.</summary>
    Task<IReadOnlyDictionary<string, string>?> GetSecretAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GetBulkSecretAsync(CancellationToken cancellationToken);
}
