using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Ovasabi.DevSidecar.Api;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Invocation;

namespace Ovasabi.DevSidecar.HttpApi;

/// <summary>daprd's HTTP API (<c>/v1.0/...</c>) on the sidecar's HTTP port.</summary>
public static class HttpEndpoints
{
    private const string InvokePrefix = "/v1.0/invoke/";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1.0/healthz", (HttpContext context, SidecarReadiness readiness, SidecarOptions options) =>
        {
            var appId = context.Request.Query["appid"].ToString();
            if (appId.Length > 0 && appId != options.AppId)
            {
                return Error(500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match");
            }
            return readiness.Ready ? Results.NoContent() : Error(500, "ERR_HEALTH_NOT_READY", "dapr is not ready");
        });
        endpoints.MapGet("/v1.0/healthz/outbound", (SidecarReadiness readiness) =>
            readiness.OutboundReady ? Results.NoContent() : Error(500, "ERR_OUTBOUND_HEALTH_NOT_READY", "dapr outbound is not ready"));

        endpoints.MapGet("/v1.0/metadata", (MetadataApi metadata) => Results.Json(metadata.BuildJson()));

        endpoints.MapPost("/v1.0/publish/{pubsub}/{**topic}", async (HttpContext context, string pubsub, string topic, PubSubApi api) =>
        {
            var body = await ReadBodyAsync(context);
            await api.PublishAsync(pubsub, topic, body, context.Request.ContentType ?? "application/json", QueryMetadata(context), context.RequestAborted);
            return Results.NoContent();
        });

        endpoints.MapGet("/v1.0/state/{store}/{**key}", async (HttpContext context, string store, string key, StateApi state) =>
        {
            var entry = await state.GetAsync(state.Store(store), key, context.RequestAborted);
            if (entry is null)
            {
                return Results.NoContent();
            }
            if (entry.ETag is not null)
            {
                context.Response.Headers.ETag = entry.ETag;
            }
            return Results.Bytes(entry.Value, "application/json");
        });
        endpoints.MapPost("/v1.0/state/{store}", async (HttpContext context, string store, StateApi state) =>
        {
            var handle = state.Store(store);
            var items = await context.Request.ReadFromJsonAsync<List<HttpStateItem>>(context.RequestAborted) ?? [];
            var writes = items.Select(item =>
            {
                if (string.IsNullOrEmpty(item.Key))
                {
                    throw DaprErrors.EmptyKey();
                }
                var metadata = item.Metadata ?? [];
                var value = item.Value.ValueKind == JsonValueKind.Undefined ? [] : JsonSerializer.SerializeToUtf8Bytes(item.Value);
                return new StateSetRequest(handle.StoredKey(item.Key), value, string.IsNullOrEmpty(item.Etag) ? null : item.Etag,
                    Concurrency(item.Options?.Concurrency), Consistency(item.Options?.Consistency), metadata, IsJson: true);
            }).ToList();
            await state.SaveAsync(handle, writes, context.RequestAborted);
            return Results.NoContent();
        });
        endpoints.MapDelete("/v1.0/state/{store}/{**key}", async (HttpContext context, string store, string key, StateApi state) =>
        {
            var handle = state.Store(store);
            var etag = context.Request.Headers.IfMatch.ToString();
            await state.DeleteAsync(handle, [new StateDeleteRequest(handle.StoredKey(key), etag.Length == 0 ? null : etag,
                StateConcurrency.Unspecified, StateConsistency.Unspecified, QueryMetadata(context))], bulk: false, context.RequestAborted);
            return Results.NoContent();
        });

        endpoints.MapMethods("/v1.0/bindings/{name}", ["POST", "PUT"], async (HttpContext context, string name, BindingApi bindings) =>
        {
            var request = await context.Request.ReadFromJsonAsync<HttpBindingRequest>(context.RequestAborted) ?? new HttpBindingRequest();
            var data = request.Data.ValueKind switch
            {
                JsonValueKind.Undefined or JsonValueKind.Null => [],
                JsonValueKind.String => System.Text.Encoding.UTF8.GetBytes(request.Data.GetString()!),
                _ => JsonSerializer.SerializeToUtf8Bytes(request.Data),
            };
            var response = await bindings.InvokeAsync(name, request.Operation ?? "", data,
                new Dictionary<string, string>(request.Metadata ?? [], StringComparer.Ordinal),
                metadata =>
                {
                    foreach (var (key, value) in metadata)
                    {
                        context.Response.Headers["Metadata." + key] = value;
                    }
                    return Task.CompletedTask;
                },
                context.RequestAborted);
            return response.Data.Length == 0 ? Results.NoContent() : Results.Bytes(response.Data);
        });

        endpoints.MapGet("/v1.0/secrets/{store}/bulk", async (HttpContext context, string store, BindingApi bindings) =>
            Results.Json(await bindings.GetBulkSecretAsync(store, context.RequestAborted)));
        endpoints.MapGet("/v1.0/secrets/{store}/{key}", async (HttpContext context, string store, string key, BindingApi bindings) =>
            Results.Json(await bindings.GetSecretAsync(store, key, context.RequestAborted)));

        endpoints.Map(InvokePrefix + "{id}/method/{**method}", (HttpContext context, string id, ServiceInvocation invocation, SidecarOptions options) =>
            InvokeAsync(context, Uri.UnescapeDataString(id), MethodOf(RawPath(context), InvokePrefix.Length), invocation, options.MaxBodySize));
        // Any other path with a dapr-app-id header is an invocation of that path. An explicit pattern: the default one
        // of MapFallback ({*path:nonfile}) skips paths whose last segment looks like a file name (report.pdf).
        endpoints.MapFallback("{**path}", (HttpContext context, ServiceInvocation invocation, SidecarOptions options) =>
            context.Request.Headers.TryGetValue(InvocationHeaders.AppId, out var target) && target.ToString().Length > 0
                ? InvokeAsync(context, target.ToString(), InvocationMethod.Decode(RawPath(context)).TrimStart('/'), invocation, options.MaxBodySize)
                : throw DaprErrors.DirectInvokeNoAppId());
    }

    /// <summary>The request path as sent (still percent-encoded).</summary>
    private static string RawPath(HttpContext context) =>
        (context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "").Split('?')[0];

    /// <summary>The method of an invoke URL, percent-decoded as daprd takes it from the decoded URL path.</summary>
    private static string MethodOf(string rawPath, int searchFrom)
    {
        const string marker = "/method/";
        var start = rawPath.IndexOf(marker, searchFrom, StringComparison.Ordinal);
        return start < 0 ? "" : InvocationMethod.Decode(rawPath[(start + marker.Length)..]);
    }

    private static async Task<IResult> InvokeAsync(HttpContext context, string target, string method, ServiceInvocation invocation, long maxBodySize)
    {
        if (string.IsNullOrEmpty(target))
        {
            throw DaprErrors.DirectInvokeNoAppId();
        }
        var body = await ReadBodyAsync(context, maxBodySize);
        var headers = context.Request.Headers
            .Where(h => InvocationHeaders.IsForwardable(h.Key))
            .SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? "")))
            .ToList();
        var message = new InvokeMessage(context.Request.Method, method, context.Request.QueryString.Value ?? "", headers, body, context.Request.ContentType);
        var result = await invocation.InvokeAsync(target, message, context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted);
        return Relay(result);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context, long maxBodySize = long.MaxValue)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (buffer.Length > maxBodySize)
        {
            throw DaprErrors.BadRequest("ERR_MALFORMED_REQUEST", $"request body of {buffer.Length} bytes exceeds the maximum of {maxBodySize}");
        }
        return buffer.ToArray();
    }

    /// <summary>daprd's HTTP API takes request metadata as <c>?metadata.key=value</c>.</summary>
    private static Dictionary<string, string> QueryMetadata(HttpContext context) =>
        context.Request.Query
            .Where(q => q.Key.StartsWith("metadata.", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(q => q.Key["metadata.".Length..], q => q.Value.ToString(), StringComparer.Ordinal);

    private static StateConcurrency Concurrency(string? value) => value switch
    {
        "first-write" => StateConcurrency.FirstWrite,
        "last-write" => StateConcurrency.LastWrite,
        _ => StateConcurrency.Unspecified,
    };

    private static StateConsistency Consistency(string? value) => value switch
    {
        "eventual" => StateConsistency.Eventual,
        "strong" => StateConsistency.Strong,
        _ => StateConsistency.Unspecified,
    };

    public static IResult Relay(InvokeResult result) => new InvokeResultHttp(result);

    public static IResult Error(int status, string errorCode, string message) =>
        Results.Json(new JsonObject { ["errorCode"] = errorCode, ["message"] = message }, statusCode: status);

    /// <summary>Turns API errors thrown by the endpoints into daprd's JSON error bodies.</summary>
    public static async Task HandleErrorsAsync(HttpContext context, Func<Task> next)
    {
        try
        {
            await next();
        }
        catch (DaprError e) when (!context.Response.HasStarted)
        {
            context.Response.StatusCode = e.HttpStatus;
            await context.Response.WriteAsJsonAsync(e.ToJson());
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new JsonObject { ["errorCode"] = "ERR_MALFORMED_REQUEST", ["message"] = e.Message });
        }
        catch (JsonException e) when (!context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new JsonObject { ["errorCode"] = "ERR_MALFORMED_REQUEST", ["message"] = $"failed deserializing HTTP body: {e.Message}" });
        }
    }

    private sealed class HttpStateItem
    {
        public string? Key { get; set; }

        public JsonElement Value { get; set; }

        public string? Etag { get; set; }

        public Dictionary<string, string>? Metadata { get; set; }

        public HttpStateOptions? Options { get; set; }
    }

    private sealed class HttpStateOptions
    {
        public string? Concurrency { get; set; }

        public string? Consistency { get; set; }
    }

    private sealed class HttpBindingRequest
    {
        public JsonElement Data { get; set; }

        public Dictionary<string, string>? Metadata { get; set; }

        public string? Operation { get; set; }
    }

    /// <summary>Relays an app's answer unchanged: status, headers and body.</summary>
    private sealed class InvokeResultHttp(InvokeResult result) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = result.Status;
            foreach (var group in result.Headers.Where(h => !InvocationHeaders.IsHopByHop(h.Key)).GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
            {
                response.Headers[group.Key] = group.Select(h => h.Value).ToArray();
            }
            if (result.ContentType is not null)
            {
                response.ContentType = result.ContentType;
            }
            response.ContentLength = result.Body.Length;
            await response.Body.WriteAsync(result.Body, httpContext.RequestAborted);
        }
    }
}
