using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>
/// The channel to an app that runs with <c>--app-protocol grpc</c>: invocations, subscriptions and events go through
/// the app's <c>dapr.proto.runtime.v1.AppCallback</c> service. Dapr.Protos ships no client for it, hence the methods below.
/// </summary>
public sealed class GrpcAppChannel : IAppChannel
{
    private const string CallbackService = "dapr.proto.runtime.v1.AppCallback";

    private static readonly Method<InvokeRequest, InvokeResponse> OnInvoke = Unary<InvokeRequest, InvokeResponse>(CallbackService, "OnInvoke");
    private static readonly Method<Empty, ListTopicSubscriptionsResponse> ListTopicSubscriptions = Unary<Empty, ListTopicSubscriptionsResponse>(CallbackService, "ListTopicSubscriptions");
    private static readonly Method<TopicEventRequest, TopicEventResponse> OnTopicEvent = Unary<TopicEventRequest, TopicEventResponse>(CallbackService, "OnTopicEvent");
    private static readonly Method<JobEventRequest, JobEventResponse> OnJobEvent = Unary<JobEventRequest, JobEventResponse>(CallbackService, "OnJobEvent");
    private static readonly Method<JobEventRequest, JobEventResponse> OnJobEventAlpha1 = Unary<JobEventRequest, JobEventResponse>("dapr.proto.runtime.v1.AppCallbackAlpha", "OnJobEventAlpha1");
    private static readonly Method<Empty, HealthCheckResponse> HealthCheck = Unary<Empty, HealthCheckResponse>("dapr.proto.runtime.v1.AppCallbackHealthCheck", "HealthCheck");

    // CloudEvent attributes that have their own TopicEventRequest fields; every other attribute goes into extensions.
    private static readonly HashSet<string> EnvelopeFields = ["id", "source", "type", "specversion", "datacontenttype", "data", "data_base64"];

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly string? _appApiToken;

    public GrpcAppChannel(GrpcChannel channel, string? appApiToken)
    {
        _channel = channel;
        _invoker = channel.CreateCallInvoker();
        _appApiToken = appApiToken;
    }

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string service, string name)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(MethodType.Unary, service, name,
            Marshallers.Create(m => m.ToByteArray(), new MessageParser<TRequest>(() => new TRequest()).ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), new MessageParser<TResponse>(() => new TResponse()).ParseFrom));

    public async Task<InvokeResult> InvokeAsync(InvokeMessage message, CancellationToken cancellationToken)
    {
        var request = new InvokeRequest
        {
            Method = message.Method,
            Data = new Any { Value = ByteString.CopyFrom(message.Body) },
            ContentType = message.ContentType ?? "",
            HttpExtension = new HTTPExtension
            {
                Verb = System.Enum.TryParse<HTTPExtension.Types.Verb>(message.Verb, ignoreCase: true, out var verb) ? verb : HTTPExtension.Types.Verb.None,
                Querystring = message.QueryString.TrimStart('?'),
            },
        };
        var metadata = Metadata(message.Headers);
        try
        {
            using var call = _invoker.AsyncUnaryCall(OnInvoke, null, new CallOptions(metadata, cancellationToken: cancellationToken), request);
            var response = await call.ResponseAsync;
            var headers = (await call.ResponseHeadersAsync)
                .Where(h => !h.IsBinary && !h.Key.StartsWith("grpc-", StringComparison.Ordinal) && h.Key != "content-type")
                .Select(h => new KeyValuePair<string, string>(h.Key, h.Value))
                .ToList();
            var contentType = string.IsNullOrEmpty(response.ContentType) ? null : response.ContentType;
            return new InvokeResult(200, headers, response.Data?.Value.ToByteArray() ?? [], contentType);
        }
        catch (RpcException e)
        {
            // daprd answers an HTTP caller with the HTTP status for the code and the gRPC status as JSON.
            var body = JsonSerializer.SerializeToUtf8Bytes(new { code = (int)e.StatusCode, message = e.Status.Detail, details = Array.Empty<object>() });
            return new InvokeResult(GrpcHttpStatus.FromGrpc(e.StatusCode), [], body, "application/json");
        }
    }

    public async Task<DeliveryOutcome> DeliverAsync(EventDelivery delivery, CancellationToken cancellationToken)
    {
        var cloudEvent = delivery.CloudEvent;
        byte[] data;
        try
        {
            data = EventData(cloudEvent);
        }
        catch (FormatException e)
        {
            return new DeliveryOutcome(DeliveryStatus.Retry, $"undecodable data_base64: {e.Message}");
        }
        var request = new TopicEventRequest
        {
            Id = Text(cloudEvent, "id"),
            Source = Text(cloudEvent, "source"),
            Type = Text(cloudEvent, "type"),
            SpecVersion = Text(cloudEvent, "specversion"),
            DataContentType = Text(cloudEvent, "datacontenttype"),
            Topic = delivery.Topic,
            PubsubName = delivery.PubSubName,
            Path = delivery.Path,
            Data = ByteString.CopyFrom(data),
            Extensions = Extensions(cloudEvent),
        };
        var metadata = Metadata(delivery.Metadata
            .Where(kv => !kv.Key.Equals("content-type", StringComparison.OrdinalIgnoreCase) && !kv.Key.Equals("content-length", StringComparison.OrdinalIgnoreCase))
            .Select(kv => new KeyValuePair<string, string>(kv.Key.ToLowerInvariant(), kv.Value)));
        try
        {
            var response = await _invoker.AsyncUnaryCall(OnTopicEvent, null, new CallOptions(metadata, cancellationToken: cancellationToken), request);
            return response.Status switch
            {
                TopicEventResponse.Types.TopicEventResponseStatus.Success => DeliveryOutcome.Success,
                TopicEventResponse.Types.TopicEventResponseStatus.Drop => new DeliveryOutcome(DeliveryStatus.Drop, "app answered DROP"),
                TopicEventResponse.Types.TopicEventResponseStatus.Retry => new DeliveryOutcome(DeliveryStatus.Retry, "app answered RETRY"),
                var other => new DeliveryOutcome(DeliveryStatus.Retry, $"unknown status {(int)other}"),
            };
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return new DeliveryOutcome(DeliveryStatus.DropWithoutDeadLetter, "app does not implement OnTopicEvent", GrpcStatus: e.StatusCode);
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryOutcome(DeliveryStatus.Retry, $"{e.StatusCode}: {e.Status.Detail}", GrpcStatus: e.StatusCode);
        }
    }

    /// <summary>The event's data for the app, decoded as daprd's gRPC subscriber does.</summary>
    private static byte[] EventData(JsonObject cloudEvent)
    {
        if (cloudEvent["data_base64"] is JsonValue base64)
        {
            return Convert.FromBase64String(base64.GetValue<string>());
        }
        if (!cloudEvent.TryGetPropertyValue("data", out var data) || data is null)
        {
            return [];
        }
        var contentType = Text(cloudEvent, "datacontenttype").Split(';')[0].Trim().ToLowerInvariant();
        if (contentType.StartsWith("text/", StringComparison.Ordinal) || contentType == "application/xml")
        {
            return Encoding.UTF8.GetBytes(data is JsonValue v && v.TryGetValue<string>(out var text) ? text : data.ToJsonString());
        }
        var isJson = contentType is "" or "application/json" or "application/cloudevents+json" || contentType.EndsWith("+json", StringComparison.Ordinal);
        return isJson ? Encoding.UTF8.GetBytes(data.ToJsonString()) : [];
    }

    private static Struct Extensions(JsonObject cloudEvent)
    {
        var extensions = new JsonObject();
        foreach (var (name, value) in cloudEvent)
        {
            if (!EnvelopeFields.Contains(name))
            {
                extensions[name] = value?.DeepClone();
            }
        }
        return JsonParser.Default.Parse<Struct>(extensions.ToJsonString());
    }

    private static string Text(JsonObject cloudEvent, string name) =>
        cloudEvent[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : "";

    public async Task<IReadOnlyList<AppSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken)
    {
        ListTopicSubscriptionsResponse response;
        try
        {
            response = await _invoker.AsyncUnaryCall(ListTopicSubscriptions, null, new CallOptions(Metadata([]), cancellationToken: cancellationToken), new Empty());
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return [];
        }
        return response.Subscriptions.Select(s =>
        {
            var rules = AppSubscription.Routes((s.Routes?.Rules ?? []).Select(r => ((string?)r.Match, (string?)r.Path)), s.Routes?.Default);
            if (rules.Count == 0)
            {
                // daprd: a subscription without routes gets one default rule with an empty path.
                rules.Add((null, ""));
            }
            return new AppSubscription(s.PubsubName, s.Topic, rules, string.IsNullOrEmpty(s.DeadLetterTopic) ? null : s.DeadLetterTopic,
                s.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
        }).ToList();
    }

    /// <summary>daprd 1.18+: <c>AppCallback/OnJobEvent</c>, and <c>AppCallbackAlpha/OnJobEventAlpha1</c> only when the app does not implement it.</summary>
    public async Task<JobTriggerOutcome> TriggerJobAsync(string name, Any? data, CancellationToken cancellationToken)
    {
        var request = new JobEventRequest
        {
            Name = name,
            Method = "job/" + name,
            ContentType = data?.TypeUrl ?? "",
            HttpExtension = new HTTPExtension { Verb = HTTPExtension.Types.Verb.Post },
        };
        if (data is not null)
        {
            request.Data = data;
        }
        var options = new CallOptions(Metadata([]), cancellationToken: cancellationToken);
        try
        {
            try
            {
                await _invoker.AsyncUnaryCall(OnJobEvent, null, options, request);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
            {
                await _invoker.AsyncUnaryCall(OnJobEventAlpha1, null, options, request);
            }
            return JobTriggerOutcome.Success;
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            return new JobTriggerOutcome(e.StatusCode == StatusCode.NotFound, $"{e.StatusCode}: {e.Status.Detail}");
        }
    }

    public async Task<bool> IsHealthyAsync(string healthPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _invoker.AsyncUnaryCall(HealthCheck, null, new CallOptions(Metadata([]), DateTime.UtcNow + timeout, cancellationToken), new Empty());
            return true;
        }
        catch (RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private Metadata Metadata(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var metadata = new Metadata();
        foreach (var (name, value) in headers)
        {
            var key = name.ToLowerInvariant();
            if (key == InvocationHeaders.ApiToken || key.EndsWith("-bin", StringComparison.Ordinal) || !IsValidKey(key) || !value.All(c => c is >= ' ' and <= '~'))
            {
                continue;
            }
            metadata.Add(key, value);
        }
        if (_appApiToken is not null)
        {
            metadata.Add(InvocationHeaders.ApiToken, _appApiToken);
        }
        return metadata;
    }

    private static bool IsValidKey(string key) =>
        key.Length > 0 && !key.StartsWith("grpc-", StringComparison.Ordinal) && key is not ("te" or "content-type" or "user-agent")
        && key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.');

    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The gRPC ↔ HTTP status mapping daprd uses for invocations (google.golang.org/grpc's codes and the Google API HTTP mapping).</summary>
public static class GrpcHttpStatus
{
    public static int FromGrpc(StatusCode code) => code switch
    {
        StatusCode.OK => 200,
        StatusCode.Cancelled => 499,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => 400,
        StatusCode.DeadlineExceeded => 504,
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists or StatusCode.Aborted => 409,
        StatusCode.PermissionDenied => 403,
        StatusCode.Unauthenticated => 401,
        StatusCode.ResourceExhausted => 429,
        StatusCode.Unimplemented => 501,
        StatusCode.Unavailable => 503,
        _ => 500,
    };
}
