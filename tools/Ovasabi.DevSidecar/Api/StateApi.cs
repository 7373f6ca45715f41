using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Resiliency;

namespace Ovasabi.DevSidecar.Api;

/// <summary>A state store as the API sees it: the component, its key prefix strategy and its outbound policy.</summary>
public sealed record StateStoreHandle(string Name, IStateStore Store, string KeyPrefix, ResiliencePolicy Policy)
{
    /// <summary>The key as stored: daprd prefixes keys itself (<c>appid||key</c> by default).</summary>
    public string StoredKey(string key)
    {
        if (key.Contains("||", StringComparison.Ordinal))
        {
            throw DaprErrors.IllegalKey(Name, key);
        }
        return KeyPrefix.Length == 0 ? key : KeyPrefix + "||" + key;
    }

    public Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken) =>
        Policy.ExecuteAsync(async ct => await operation(ct), cancellationToken).AsTask();

    public Task RunAsync(Func<CancellationToken, Task> operation, CancellationToken cancellationToken) =>
        Policy.ExecuteAsync(async ct => await operation(ct), cancellationToken).AsTask();
}

/// <summary>The state API shared by the gRPC and HTTP front ends: store lookup, key prefixes, daprd's error mapping.</summary>
public sealed class StateApi(ComponentRegistry components, ResiliencyPolicies resiliency, SidecarOptions options)
{
    public StateStoreHandle Store(string name)
    {
        if (!components.TryGet(name, ComponentKind.State, out var component))
        {
            throw components.OfKind(ComponentKind.State).Any()
                ? DaprErrors.StateStoreNotFound(name)
                : DaprErrors.StateStoreNotConfigured(name);
        }
        return new StateStoreHandle(name, (IStateStore)component.Instance, KeyPrefix(component.Definition),
            resiliency.ForComponentOutbound(name, "Statestore") ?? ResiliencePolicy.None);
    }

    private string KeyPrefix(ComponentDefinition definition)
    {
        var strategy = definition.Metadata.Get("keyPrefix") ?? "appid";
        return strategy.ToLowerInvariant() switch
        {
            "appid" => options.AppId,
            "name" => definition.Name,
            "namespace" => string.IsNullOrEmpty(options.Namespace) ? options.AppId : $"{options.Namespace}.{options.AppId}",
            "none" => "",
            _ => strategy,
        };
    }

    /// <summary>Strips the store prefix from a stored key (everything up to the first <c>||</c>).</summary>
    public static string ResponseKey(string storedKey)
    {
        var index = storedKey.IndexOf("||", StringComparison.Ordinal);
        return index < 0 ? storedKey : storedKey[(index + 2)..];
    }

    public async Task<StateEntry?> GetAsync(StateStoreHandle store, string key, CancellationToken cancellationToken)
    {
        var storedKey = store.StoredKey(key);
        try
        {
            return await store.RunAsync(ct => store.Store.GetAsync(storedKey, ct), cancellationToken);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw DaprErrors.StateGet(key, store.Name, e.Message);
        }
    }

    public async Task SaveAsync(StateStoreHandle store, IReadOnlyList<StateSetRequest> requests, CancellationToken cancellationToken)
    {
        try
        {
            // Several items: daprd's BulkSet runs them in parallel and is not atomic.
            await Task.WhenAll(requests.Select(r => store.RunAsync(ct => store.Store.SetAsync(r, ct), cancellationToken)));
        }
        catch (ETagMismatchException e)
        {
            throw DaprErrors.ETagMismatch("ERR_STATE_SAVE", $"failed saving state in state store {store.Name}: {e.Message}");
        }
        catch (ETagInvalidException e)
        {
            throw DaprErrors.ETagInvalid("ERR_STATE_SAVE", $"failed saving state in state store {store.Name}: {e.Message}");
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw DaprErrors.StateSave(store.Name, e.Message);
        }
    }

    public async Task DeleteAsync(StateStoreHandle store, IReadOnlyList<StateDeleteRequest> requests, bool bulk, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(requests.Select(r => store.RunAsync(ct => store.Store.DeleteAsync(r, ct), cancellationToken)));
        }
        catch (ETagMismatchException e)
        {
            throw DaprErrors.ETagMismatch(bulk ? "ERR_STATE_BULK_DELETE" : "ERR_STATE_DELETE", DeleteMessage(requests, bulk, e));
        }
        catch (ETagInvalidException e)
        {
            throw DaprErrors.ETagInvalid(bulk ? "ERR_STATE_BULK_DELETE" : "ERR_STATE_DELETE", DeleteMessage(requests, bulk, e));
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw bulk ? DaprErrors.StateBulkDelete(e.Message) : DaprErrors.StateDelete(ResponseKey(requests[0].Key), e.Message);
        }
    }

    private static string DeleteMessage(IReadOnlyList<StateDeleteRequest> requests, bool bulk, Exception e) =>
        bulk ? $"failed deleting state: {e.Message}" : $"failed deleting state with key {ResponseKey(requests[0].Key)}: {e.Message}";

    public async Task TransactAsync(StateStoreHandle store, IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        if (!store.Store.Features.Contains(StateFeatures.Transactional))
        {
            throw DaprErrors.TransactionsNotSupported(store.Name);
        }
        try
        {
            await store.RunAsync(ct => store.Store.ExecuteTransactionAsync(operations, ct), cancellationToken);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw DaprErrors.Transaction(e.Message);
        }
    }

    /// <summary>Errors of the store itself (not the caller going away, not an API error raised on purpose).</summary>
    private static bool IsStoreFailure(Exception e) => e is not (DaprError or OperationCanceledException);

    /// <summary>daprd's StateOptions enums: 0 unspecified, 1 first-write/eventual, 2 last-write/strong.</summary>
    public static StateConcurrency Concurrency(int value) => value switch { 1 => StateConcurrency.FirstWrite, 2 => StateConcurrency.LastWrite, _ => StateConcurrency.Unspecified };

    public static StateConsistency Consistency(int value) => value switch { 1 => StateConsistency.Eventual, 2 => StateConsistency.Strong, _ => StateConsistency.Unspecified };

    public static bool IsJson(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(StateRequestMetadata.ContentTypeKey, out var contentType)
        && contentType.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase);
}
