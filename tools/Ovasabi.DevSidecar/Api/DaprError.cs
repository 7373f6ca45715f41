using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.DevSidecar.Api;

/// <summary>
/// An API error as daprd reports it: a gRPC code with the rich error details (ErrorInfo in domain dapr.io,
/// ResourceInfo, BadRequest), and for HTTP a status with the JSON body <c>{"errorCode","message","details"}</c>.
/// </summary>
public sealed class DaprError : Exception
{
    private const string Domain = "dapr.io";

    public DaprError(StatusCode grpcCode, int httpStatus, string errorCode, string message, string? reason = null)
        : base(message)
    {
        GrpcCode = grpcCode;
        HttpStatus = httpStatus;
        ErrorCode = errorCode;
        Reason = reason;
    }

    public StatusCode GrpcCode { get; }

    public int HttpStatus { get; }

    /// <summary>The HTTP API's <c>errorCode</c>, e.g. <c>ERR_STATE_STORE_NOT_FOUND</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The ErrorInfo reason, e.g. <c>DAPR_STATE_NOT_FOUND</c>; null when daprd sends no details.</summary>
    public string? Reason { get; }

    public (string Type, string Name)? Resource { get; private init; }

    public string? BadField { get; private init; }

    public IReadOnlyDictionary<string, string>? InfoMetadata { get; private init; }

    public DaprError WithResource(string type, string name) => Copy(resource: (type, name));

    public DaprError WithBadField(string field) => Copy(badField: field);

    public DaprError WithInfo(IReadOnlyDictionary<string, string> metadata) => Copy(info: metadata);

    private DaprError Copy((string, string)? resource = null, string? badField = null, IReadOnlyDictionary<string, string>? info = null) =>
        new(GrpcCode, HttpStatus, ErrorCode, Message, Reason)
        {
            Resource = resource ?? Resource,
            BadField = badField ?? BadField,
            InfoMetadata = info ?? InfoMetadata,
        };

    public RpcException ToRpcException()
    {
        var status = new Google.Rpc.Status { Code = (int)GrpcCode, Message = Message };
        foreach (var detail in Details())
        {
            status.Details.Add(Any.Pack(detail));
        }
        return status.ToRpcException();
    }

    public JsonObject ToJson()
    {
        var body = new JsonObject { ["errorCode"] = ErrorCode, ["message"] = Message };
        var details = new JsonArray();
        foreach (var detail in Details())
        {
            var node = JsonNode.Parse(JsonFormatter.Default.Format(detail))!.AsObject();
            node.Insert(0, "@type", "type.googleapis.com/" + detail.Descriptor.FullName);
            details.Add(node);
        }
        if (details.Count > 0)
        {
            body["details"] = details;
        }
        return body;
    }

    private IEnumerable<IMessage> Details()
    {
        if (Reason is null)
        {
            yield break;
        }
        var info = new ErrorInfo { Domain = Domain, Reason = Reason };
        if (InfoMetadata is not null)
        {
            foreach (var (key, value) in InfoMetadata)
            {
                info.Metadata[key] = value;
            }
        }
        yield return info;
        if (Resource is var (type, name))
        {
            yield return new ResourceInfo { ResourceType = type, ResourceName = name };
        }
        if (BadField is not null)
        {
            yield return new BadRequest
            {
                FieldViolations = { new BadRequest.Types.FieldViolation { Field = BadField, Description = Message } },
            };
        }
    }
}

/// <summary>The daprd errors the sidecar reports, with daprd's codes and wording.</summary>
public static class DaprErrors
{
    private const int Http400 = 400, Http403 = 403, Http404 = 404, Http500 = 500;

    public static DaprError StateStoreNotConfigured(string store) =>
        new DaprError(StatusCode.FailedPrecondition, Http500, "ERR_STATE_STORE_NOT_CONFIGURED",
            $"state store {store} is not configured", "DAPR_STATE_NOT_CONFIGURED");

    public static DaprError StateStoreNotFound(string store) =>
        new(StatusCode.InvalidArgument, Http400, "ERR_STATE_STORE_NOT_FOUND",
            $"state store {store} is not found", "DAPR_STATE_NOT_FOUND");

    public static DaprError IllegalKey(string store, string key) =>
        new DaprError(StatusCode.InvalidArgument, Http400, "ERR_MALFORMED_REQUEST",
            $"input key/keyPrefix '{key}' can't contain '||'", "DAPR_STATE_ILLEGAL_KEY")
            .WithResource("state", store).WithBadField(key);

    public static DaprError EmptyKey() =>
        new(StatusCode.InvalidArgument, Http400, "ERR_MALFORMED_REQUEST", "state key cannot be empty");

    public static DaprError ETagMismatch(string errorCode, string message) =>
        new(StatusCode.Aborted, 409, errorCode, message);

    public static DaprError ETagInvalid(string errorCode, string message) =>
        new(StatusCode.InvalidArgument, Http400, errorCode, message);

    public static DaprError StateGet(string key, string store, string cause) =>
        new(StatusCode.Internal, Http500, "ERR_STATE_GET", $"fail to get {key} from state store {store}: {cause}");

    public static DaprError StateSave(string store, string cause) =>
        new(StatusCode.Internal, Http500, "ERR_STATE_SAVE", $"failed saving state in state store {store}: {cause}");

    public static DaprError StateDelete(string key, string cause) =>
        new(StatusCode.Internal, Http500, "ERR_STATE_DELETE", $"failed deleting state with key {key}: {cause}");

    public static DaprError StateBulkDelete(string cause) =>
        new(StatusCode.Internal, Http500, "ERR_STATE_BULK_DELETE", $"failed deleting state: {cause}");

    public static DaprError TransactionsNotSupported(string store) =>
        new DaprError(StatusCode.Unimplemented, Http500, "ERR_STATE_STORE_NOT_SUPPORTED",
            $"state store {store} doesn't support transactions", "DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED")
            .WithResource("state", store);

    public static DaprError TransactionOperationNotSupported(string operation) =>
        new(StatusCode.Unimplemented, Http400, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {operation} not supported");

    public static DaprError Transaction(string cause) =>
        new(StatusCode.Internal, Http500, "ERR_STATE_TRANSACTION", $"error while executing state transaction: {cause}");

    public static DaprError PubSubNotConfigured(string pubsub) =>
        new DaprError(StatusCode.FailedPrecondition, Http400, "ERR_PUBSUB_NOT_CONFIGURED", "pubsub is not configured", "DAPR_PUBSUB_NOT_CONFIGURED")
            .WithResource("", pubsub);

    public static DaprError PubSubEmpty() =>
        new DaprError(StatusCode.InvalidArgument, Http404, "ERR_PUBSUB_EMPTY", "pubsub name is empty", "DAPR_PUBSUB_NAME_EMPTY")
            .WithResource("", "");

    public static DaprError PubSubNotFound(string pubsub) =>
        new DaprError(StatusCode.InvalidArgument, Http404, "ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsub} not found", "DAPR_PUBSUB_NOT_FOUND")
            .WithResource("", pubsub);

    public static DaprError TopicEmpty(string pubsub, string type) =>
        new DaprError(StatusCode.InvalidArgument, Http404, "ERR_TOPIC_EMPTY", $"topic is empty in pubsub {pubsub}", "DAPR_PUBSUB_TOPICNAME_EMPTY")
            .WithResource(type, pubsub);

    public static DaprError TopicForbidden(string pubsub, string type, string topic, string appId) =>
        new DaprError(StatusCode.PermissionDenied, Http403, "ERR_PUBSUB_FORBIDDEN", $"topic {topic} is not allowed for app id {appId}", "DAPR_PUBSUB_FORBIDDEN")
            .WithResource(type, pubsub)
            .WithInfo(new Dictionary<string, string> { ["topic"] = topic, ["error"] = $"topic {topic} is not allowed for app id {appId}" });

    public static DaprError PublishFailed(string pubsub, string type, string topic, string cause) =>
        new DaprError(StatusCode.Internal, Http500, "ERR_PUBSUB_PUBLISH_MESSAGE",
            $"error when publishing to topic {topic} in pubsub {pubsub}: {cause}", "DAPR_PUBSUB_PUBLISH_MESSAGE")
            .WithResource(type, pubsub)
            .WithInfo(new Dictionary<string, string> { ["topic"] = topic, ["error"] = cause });

    public static DaprError CloudEventCreation(string pubsub, string type) =>
        new DaprError(StatusCode.InvalidArgument, Http500, "ERR_PUBSUB_CLOUD_EVENTS_SER", "cannot create cloudevent", "DAPR_PUBSUB_CLOUD_EVENT_CREATION")
            .WithResource(type, pubsub);

    public static DaprError PublishMetadata(string pubsub, string type, string cause) =>
        new DaprError(StatusCode.InvalidArgument, Http400, "ERR_PUBSUB_REQUEST_METADATA",
            $"failed deserializing metadata. Error: {cause}", "DAPR_PUBSUB_METADATA_DESERIALIZATION")
            .WithResource(type, pubsub);

    public static DaprError BulkEntryIdInvalid(string cause) =>
        new(StatusCode.InvalidArgument, Http400, "ERR_PUBSUB_EVENTS_SER", cause);

    public static DaprError BindingInvoke(string binding, string cause) =>
        new(StatusCode.Internal, Http500, "ERR_INVOKE_OUTPUT_BINDING", $"error invoking output binding {binding}: {cause}", "ERR_INVOKE_OUTPUT_BINDING");

    public static DaprError SecretStoreNotConfigured() =>
        new(StatusCode.FailedPrecondition, Http500, "ERR_SECRET_STORES_NOT_CONFIGURED", "secret store is not configured");

    public static DaprError SecretStoreNotFound(string store) =>
        new(StatusCode.InvalidArgument, 401, "ERR_SECRET_STORE_NOT_FOUND", $"failed finding secret store with key {store}");

    public static DaprError SecretGet(string key, string store, string cause) =>
        new(StatusCode.Internal, Http500, "ERR_SECRET_GET", $"failed getting secret with key {key} from secret store {store}: {cause}");

    public static DaprError DirectInvoke(string appId, string cause) =>
        new(StatusCode.Internal, Http500, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {cause}");

    public static DaprError DirectInvokeNoAppId() =>
        new(StatusCode.InvalidArgument, Http404, "ERR_DIRECT_INVOKE", "failed getting app id either from the URL path or the header dapr-app-id");

    public static DaprError BadRequest(string errorCode, string message) =>
        new(StatusCode.InvalidArgument, Http400, errorCode, message);
}
