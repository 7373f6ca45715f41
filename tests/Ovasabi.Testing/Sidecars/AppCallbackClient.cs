using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Ovasabi.Testing.Sidecars;

/// <summary>
/// A client of Dapr's AppCallback service (Dapr.Protos ships only its server side): calls an app the way its sidecar
/// delivers events and job triggers to it.
/// </summary>
public sealed class AppCallbackClient(CallInvoker invoker)
{
    private const string Service = "dapr.proto.runtime.v1.AppCallback";

    private static readonly Method<Empty, ListTopicSubscriptionsResponse> ListTopicSubscriptionsMethod =
        new(MethodType.Unary, Service, "ListTopicSubscriptions", Marshaller(Empty.Parser), Marshaller(ListTopicSubscriptionsResponse.Parser));

    private static readonly Method<TopicEventRequest, TopicEventResponse> OnTopicEventMethod =
        new(MethodType.Unary, Service, "OnTopicEvent", Marshaller(TopicEventRequest.Parser), Marshaller(TopicEventResponse.Parser));

    private static readonly Method<JobEventRequest, JobEventResponse> OnJobEventMethod =
        new(MethodType.Unary, Service, "OnJobEvent", Marshaller(JobEventRequest.Parser), Marshaller(JobEventResponse.Parser));

    public Task<JobEventResponse> OnJobEventAsync(JobEventRequest request, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(OnJobEventMethod, null, new CallOptions(cancellationToken: cancellationToken), request).ResponseAsync;

    public Task<ListTopicSubscriptionsResponse> ListTopicSubscriptionsAsync(CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(ListTopicSubscriptionsMethod, null, new CallOptions(cancellationToken: cancellationToken), new Empty()).ResponseAsync;

    public Task<TopicEventResponse> OnTopicEventAsync(TopicEventRequest request, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(OnTopicEventMethod, null, new CallOptions(cancellationToken: cancellationToken), request).ResponseAsync;

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser) where T : IMessage<T> =>
        Marshallers.Create(message => message.ToByteArray(), parser.ParseFrom);
}
