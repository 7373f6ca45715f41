using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.DevSidecar.Api;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Jobs;

namespace Ovasabi.DevSidecar.GrpcApi;

/// <summary>
/// The implemented methods of <c>dapr.proto.runtime.v1.Dapr</c>. Every other method of the service answers
/// Unimplemented (Grpc.AspNetCore's answer for a method it has no handler for).
/// </summary>
public sealed class DaprGrpcApi(StateApi state, PubSubApi pubsub, BindingApi bindings, MetadataApi metadata, JobsApi jobs)
{
    public async Task<ScheduleJobResponse> ScheduleJob(ScheduleJobRequest request, ServerCallContext context)
    {
        await jobs.ScheduleAsync(request, context.CancellationToken);
        return new ScheduleJobResponse();
    }

    public async Task<GetJobResponse> GetJob(GetJobRequest request, ServerCallContext context) =>
        new() { Job = await jobs.GetAsync(request.Name, context.CancellationToken) };

    public async Task<DeleteJobResponse> DeleteJob(DeleteJobRequest request, ServerCallContext context)
    {
        await jobs.DeleteAsync(request.Name, context.CancellationToken);
        return new DeleteJobResponse();
    }

    public async Task<DeleteJobsByPrefixResponse> DeleteJobsByPrefix(DeleteJobsByPrefixRequest request, ServerCallContext context)
    {
        await jobs.DeleteByPrefixAsync(request.NamePrefix, context.CancellationToken);
        return new DeleteJobsByPrefixResponse();
    }

    public async Task<DeleteJobsByPrefixResponseAlpha1> DeleteJobsByPrefixAlpha1(DeleteJobsByPrefixRequestAlpha1 request, ServerCallContext context)
    {
        await jobs.DeleteByPrefixAsync(request.NamePrefix, context.CancellationToken);
        return new DeleteJobsByPrefixResponseAlpha1();
    }

    public async Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context) =>
        new() { Jobs = { await jobs.ListAsync(context.CancellationToken) } };

    public async Task<ListJobsResponseAlpha1> ListJobsAlpha1(ListJobsRequestAlpha1 request, ServerCallContext context) =>
        new() { Jobs = { await jobs.ListAsync(context.CancellationToken) } };

    public async Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context)
    {
        var store = state.Store(request.StoreName);
        var entry = await state.GetAsync(store, request.Key, context.CancellationToken);
        var response = new GetStateResponse();
        if (entry is not null)
        {
            response.Data = ByteString.CopyFrom(entry.Value);
            response.Etag = entry.ETag ?? "";
            response.Metadata.AddAll(entry.Metadata);
        }
        return response;
    }

    public async Task<GetBulkStateResponse> GetBulkState(GetBulkStateRequest request, ServerCallContext context)
    {
        var store = state.Store(request.StoreName);
        var parallelism = request.Parallelism > 0 ? request.Parallelism : Math.Max(1, request.Keys.Count);
        using var gate = new SemaphoreSlim(parallelism);
        var items = await Task.WhenAll(request.Keys.Select(async key =>
        {
            await gate.WaitAsync(context.CancellationToken);
            try
            {
                var item = new BulkStateItem { Key = key };
                try
                {
                    var entry = await state.GetAsync(store, key, context.CancellationToken);
                    if (entry is not null)
                    {
                        item.Data = ByteString.CopyFrom(entry.Value);
                        item.Etag = entry.ETag ?? "";
                        item.Metadata.AddAll(entry.Metadata);
                    }
                }
                catch (DaprError e) when (e.GrpcCode == StatusCode.Internal)
                {
                    // A failing key does not fail the call: daprd reports it on the item.
                    item.Error = e.Message;
                }
                return item;
            }
            finally
            {
                gate.Release();
            }
        }));
        var response = new GetBulkStateResponse();
        response.Items.AddRange(items);
        return response;
    }

    public async Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context)
    {
        var store = state.Store(request.StoreName);
        var writes = request.States.Select(item =>
        {
            if (string.IsNullOrEmpty(item.Key))
            {
                throw DaprErrors.EmptyKey();
            }
            return ToSetRequest(store, item);
        }).ToList();
        if (writes.Count > 0)
        {
            await state.SaveAsync(store, writes, context.CancellationToken);
        }
        return new Empty();
    }

    public async Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context)
    {
        var store = state.Store(request.StoreName);
        var delete = new StateDeleteRequest(store.StoredKey(request.Key), ETag(request.Etag?.Value),
            StateApi.Concurrency((int)(request.Options?.Concurrency ?? 0)), StateApi.Consistency((int)(request.Options?.Consistency ?? 0)),
            request.Metadata);
        await state.DeleteAsync(store, [delete], bulk: false, context.CancellationToken);
        return new Empty();
    }

    public async Task<Empty> DeleteBulkState(DeleteBulkStateRequest request, ServerCallContext context)
    {
        var store = state.Store(request.StoreName);
        var deletes = request.States.Select(item => ToDeleteRequest(store, item)).ToList();
        if (deletes.Count > 0)
        {
            await state.DeleteAsync(store, deletes, bulk: true, context.CancellationToken);
        }
        return new Empty();
    }

    public async Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context)
    {
        var store = state.Store(request.StoreName);
        var operations = request.Operations.Select(operation => operation.OperationType switch
        {
            "upsert" => (StateOperation)new StateUpsert(ToSetRequest(store, operation.Request ?? new StateItem(), request.Metadata)),
            "delete" => new StateDelete(ToDeleteRequest(store, operation.Request ?? new StateItem(), request.Metadata)),
            var other => throw DaprErrors.TransactionOperationNotSupported(other),
        }).ToList();
        await state.TransactAsync(store, operations, context.CancellationToken);
        return new Empty();
    }

    public async Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context)
    {
        await pubsub.PublishAsync(request.PubsubName, request.Topic, request.Data.ToByteArray(),
            string.IsNullOrEmpty(request.DataContentType) ? null : request.DataContentType, request.Metadata, context.CancellationToken);
        return new Empty();
    }

    /// <summary>
    /// Each entry becomes its own message; a failed entry is reported in failedEntries and the call still succeeds,
    /// unless every entry failed.
    /// </summary>
    public async Task<BulkPublishResponse> BulkPublishEvent(BulkPublishRequest request, ServerCallContext context)
    {
        var component = pubsub.ResolveForPublish(request.PubsubName, request.Topic);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in request.Entries)
        {
            if (string.IsNullOrEmpty(entry.EntryId))
            {
                throw DaprErrors.BulkEntryIdInvalid("entryId is duplicated or not present for entry");
            }
            if (!ids.Add(entry.EntryId))
            {
                throw DaprErrors.BulkEntryIdInvalid($"entryId is duplicated or not present for entry {entry.EntryId}");
            }
        }
        var messages = request.Entries.Select(entry =>
        {
            var entryMetadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
            foreach (var (key, value) in entry.Metadata)
            {
                entryMetadata[key] = value;
            }
            return (entry.EntryId, Message: pubsub.Envelope(component, request.Topic, entry.Event.ToByteArray(),
                string.IsNullOrEmpty(entry.ContentType) ? null : entry.ContentType, entryMetadata));
        }).ToList();
        var results = await Task.WhenAll(messages.Select(async m =>
        {
            try
            {
                await pubsub.SendAsync(component, m.Message, context.CancellationToken);
                return (m.EntryId, Error: (string?)null);
            }
            catch (DaprError e)
            {
                return (m.EntryId, Error: e.Message);
            }
        }));
        var failed = results.Where(r => r.Error is not null).ToList();
        if (failed.Count > 0 && failed.Count == results.Length)
        {
            throw DaprErrors.PublishFailed(component.Name, component.Definition.Type, request.Topic, failed[0].Error!);
        }
        var response = new BulkPublishResponse();
        response.FailedEntries.AddRange(failed.Select(f => new BulkPublishResponseFailedEntry { EntryId = f.EntryId, Error = f.Error }));
        return response;
    }

    public async Task<InvokeBindingResponse> InvokeBinding(InvokeBindingRequest request, ServerCallContext context)
    {
        var requestMetadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
        // daprd copies the caller's gRPC headers into the binding metadata without overwriting what the caller set,
        // except the trace context and the baggage (all its headers joined), where the headers win.
        var baggage = context.RequestHeaders.Where(h => h.Key == "baggage" && !h.IsBinary).Select(h => h.Value).ToList();
        if (baggage.Count > 0)
        {
            requestMetadata["baggage"] = string.Join(",", baggage);
        }
        foreach (var header in context.RequestHeaders.Where(h => !h.IsBinary))
        {
            var key = header.Key is "content-type" or "user-agent" or "te" || header.Key.StartsWith("grpc-", StringComparison.Ordinal)
                ? "dapr-" + header.Key
                : header.Key;
            if (key is "traceparent" or "tracestate")
            {
                requestMetadata[key] = header.Value;
            }
            else
            {
                requestMetadata.TryAdd(key, header.Value);
            }
        }
        var result = await bindings.InvokeAsync(request.Name, request.Operation, request.Data.ToByteArray(), requestMetadata,
            metadata => context.WriteResponseHeadersAsync(ResponseHeaders(metadata)), context.CancellationToken);
        var response = new InvokeBindingResponse { Data = ByteString.CopyFrom(result.Data) };
        response.Metadata.AddAll(result.Metadata);
        return response;
    }

    /// <summary>A binding's response metadata as daprd's gRPC headers: <c>metadata.&lt;key&gt;</c>, lower-cased by grpc-go.</summary>
    private static Metadata ResponseHeaders(IReadOnlyDictionary<string, string> metadata)
    {
        var headers = new Metadata();
        foreach (var (key, value) in metadata)
        {
            var headerName = "metadata." + key.ToLowerInvariant();
            if (IsAsciiHeader(headerName, value))
            {
                headers.Add(headerName, value);
            }
        }
        return headers;
    }

    public async Task<GetSecretResponse> GetSecret(GetSecretRequest request, ServerCallContext context)
    {
        var secret = await bindings.GetSecretAsync(request.StoreName, request.Key, context.CancellationToken);
        var response = new GetSecretResponse();
        response.Data.AddAll(secret);
        return response;
    }

    public async Task<GetBulkSecretResponse> GetBulkSecret(GetBulkSecretRequest request, ServerCallContext context)
    {
        var secrets = await bindings.GetBulkSecretAsync(request.StoreName, context.CancellationToken);
        var response = new GetBulkSecretResponse();
        foreach (var (name, entries) in secrets)
        {
            var item = new SecretResponse();
            item.Secrets.AddAll(entries);
            response.Data[name] = item;
        }
        return response;
    }

    public Task<GetMetadataResponse> GetMetadata(GetMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(metadata.Build());

    private StateSetRequest ToSetRequest(StateStoreHandle store, StateItem item, IDictionary<string, string>? defaults = null)
    {
        var itemMetadata = Merge(defaults, item.Metadata);
        return new StateSetRequest(store.StoredKey(item.Key), item.Value.ToByteArray(), ETag(item.Etag?.Value),
            StateApi.Concurrency((int)(item.Options?.Concurrency ?? 0)), StateApi.Consistency((int)(item.Options?.Consistency ?? 0)),
            itemMetadata, StateApi.IsJson(itemMetadata));
    }

    private StateDeleteRequest ToDeleteRequest(StateStoreHandle store, StateItem item, IDictionary<string, string>? defaults = null) =>
        new(store.StoredKey(item.Key), ETag(item.Etag?.Value),
            StateApi.Concurrency((int)(item.Options?.Concurrency ?? 0)), StateApi.Consistency((int)(item.Options?.Consistency ?? 0)),
            Merge(defaults, item.Metadata));

    private static Dictionary<string, string> Merge(IDictionary<string, string>? defaults, IDictionary<string, string> own)
    {
        var merged = new Dictionary<string, string>(defaults ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in own)
        {
            merged[key] = value;
        }
        return merged;
    }

    /// <summary>An empty etag counts as none (components-contrib's HasETag).</summary>
    private static string? ETag(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool IsAsciiHeader(string name, string value) =>
        name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.') && value.All(c => c is >= ' ' and <= '~');
}
