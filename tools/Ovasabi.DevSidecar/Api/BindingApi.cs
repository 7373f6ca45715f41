using System.Diagnostics;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Observability;
using Ovasabi.DevSidecar.Resiliency;

namespace Ovasabi.DevSidecar.Api;

/// <summary>Output bindings and secrets, shared by the gRPC and HTTP front ends.</summary>
public sealed class BindingApi(ComponentRegistry components, ResiliencyPolicies resiliency, SidecarMetrics metrics)
{
    /// <summary>
    /// Invokes an output binding. daprd adds the trace context to the request metadata and reports every failure,
    /// an unknown binding or operation included, as Internal. <paramref name="writeResponseMetadata"/> gets the
    /// component's response metadata before the call returns or fails: daprd sends it as headers even with an error.
    /// </summary>
    public async Task<BindingResponse> InvokeAsync(string name, string operation, byte[] data, IDictionary<string, string> metadata,
        Func<IReadOnlyDictionary<string, string>, Task> writeResponseMetadata, CancellationToken cancellationToken)
    {
        if (operation.Length == 0)
        {
            throw DaprErrors.BindingInvoke(name, "operation field is missing from request");
        }
        if (!components.TryGet(name, ComponentKind.Binding, out var component))
        {
            throw DaprErrors.BindingInvoke(name, $"couldn't find output binding {name}");
        }
        var binding = (IOutputBinding)component.Instance;
        if (!binding.Operations.Contains(operation, StringComparer.Ordinal))
        {
            throw DaprErrors.BindingInvoke(name,
                $"binding {name} does not support operation {operation}. supported operations:{string.Join(" ", binding.Operations)}");
        }
        if (Activity.Current is { } activity)
        {
            metadata.TryAdd("traceparent", activity.Id ?? "");
            if (!string.IsNullOrEmpty(activity.TraceStateString))
            {
                metadata.TryAdd("tracestate", activity.TraceStateString);
            }
        }
        var request = new BindingRequest(operation, data, new Dictionary<string, string>(metadata, StringComparer.Ordinal));
        var policy = resiliency.ForComponentOutbound(name, "Binding") ?? ResiliencePolicy.None;
        BindingResponse response;
        try
        {
            response = await policy.ExecuteAsync(async ct => await binding.InvokeAsync(request, ct), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.BindingCalled(name, operation, success: false);
            if (e is BindingException { Response: { } failed })
            {
                await writeResponseMetadata(failed.Metadata);
            }
            throw DaprErrors.BindingInvoke(name, e.Message);
        }
        metrics.BindingCalled(name, operation, success: true);
        await writeResponseMetadata(response.Metadata);
        return response;
    }

    public async Task<IReadOnlyDictionary<string, string>> GetSecretAsync(string storeName, string key, CancellationToken cancellationToken)
    {
        var store = SecretStore(storeName);
        try
        {
            return await store.GetSecretAsync(key, cancellationToken)
                ?? throw DaprErrors.SecretGet(key, storeName, $"secret {key} not found");
        }
        catch (Exception e) when (e is not (DaprError or OperationCanceledException))
        {
            throw DaprErrors.SecretGet(key, storeName, e.Message);
        }
    }

    public async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GetBulkSecretAsync(string storeName, CancellationToken cancellationToken)
    {
        var store = SecretStore(storeName);
        try
        {
            return await store.GetBulkSecretAsync(cancellationToken);
        }
        catch (Exception e) when (e is not (DaprError or OperationCanceledException))
        {
            throw new DaprError(Grpc.Core.StatusCode.Internal, 500, "ERR_SECRET_GET", $"failed getting secrets from secret store {storeName}: {e.Message}");
        }
    }

    private ISecretStore SecretStore(string name)
    {
        if (!components.OfKind(ComponentKind.SecretStore).Any())
        {
            throw DaprErrors.SecretStoreNotConfigured();
        }
        return components.TryGet(name, ComponentKind.SecretStore, out var component)
            ? (ISecretStore)component.Instance
            : throw DaprErrors.SecretStoreNotFound(name);
    }
}
