using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Ovasabi.DevSidecar.Api;
using DaprService = Dapr.Client.Autogen.Grpc.v1.Dapr;

namespace Ovasabi.DevSidecar.GrpcApi;

/// <summary>
/// Binds <see cref="DaprGrpcApi"/> to <c>dapr.proto.runtime.v1.Dapr</c> without generated server code: Dapr.Protos
/// ships only the client side of the runtime API, so each method is registered from the service descriptor.
/// </summary>
public sealed class DaprMethodProvider : IServiceMethodProvider<DaprGrpcApi>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<DaprGrpcApi> context)
    {
        Add<GetStateRequest, GetStateResponse>(context, "GetState", (api, r, c) => api.GetState(r, c));
        Add<GetBulkStateRequest, GetBulkStateResponse>(context, "GetBulkState", (api, r, c) => api.GetBulkState(r, c));
        Add<SaveStateRequest, Google.Protobuf.WellKnownTypes.Empty>(context, "SaveState", (api, r, c) => api.SaveState(r, c));
        Add<DeleteStateRequest, Google.Protobuf.WellKnownTypes.Empty>(context, "DeleteState", (api, r, c) => api.DeleteState(r, c));
        Add<DeleteBulkStateRequest, Google.Protobuf.WellKnownTypes.Empty>(context, "DeleteBulkState", (api, r, c) => api.DeleteBulkState(r, c));
        Add<ExecuteStateTransactionRequest, Google.Protobuf.WellKnownTypes.Empty>(context, "ExecuteStateTransaction", (api, r, c) => api.ExecuteStateTransaction(r, c));
        Add<PublishEventRequest, Google.Protobuf.WellKnownTypes.Empty>(context, "PublishEvent", (api, r, c) => api.PublishEvent(r, c));
        Add<BulkPublishRequest, BulkPublishResponse>(context, "BulkPublishEvent", (api, r, c) => api.BulkPublishEvent(r, c));
        Add<BulkPublishRequest, BulkPublishResponse>(context, "BulkPublishEventAlpha1", (api, r, c) => api.BulkPublishEvent(r, c));
        Add<InvokeBindingRequest, InvokeBindingResponse>(context, "InvokeBinding", (api, r, c) => api.InvokeBinding(r, c));
        Add<GetSecretRequest, GetSecretResponse>(context, "GetSecret", (api, r, c) => api.GetSecret(r, c));
        Add<GetBulkSecretRequest, GetBulkSecretResponse>(context, "GetBulkSecret", (api, r, c) => api.GetBulkSecret(r, c));
        Add<GetMetadataRequest, GetMetadataResponse>(context, "GetMetadata", (api, r, c) => api.GetMetadata(r, c));
        foreach (var suffix in (string[])["", "Alpha1"])
        {
            Add<ScheduleJobRequest, ScheduleJobResponse>(context, "ScheduleJob" + suffix, (api, r, c) => api.ScheduleJob(r, c));
            Add<GetJobRequest, GetJobResponse>(context, "GetJob" + suffix, (api, r, c) => api.GetJob(r, c));
            Add<DeleteJobRequest, DeleteJobResponse>(context, "DeleteJob" + suffix, (api, r, c) => api.DeleteJob(r, c));
        }
        Add<DeleteJobsByPrefixRequest, DeleteJobsByPrefixResponse>(context, "DeleteJobsByPrefix", (api, r, c) => api.DeleteJobsByPrefix(r, c));
        Add<DeleteJobsByPrefixRequestAlpha1, DeleteJobsByPrefixResponseAlpha1>(context, "DeleteJobsByPrefixAlpha1", (api, r, c) => api.DeleteJobsByPrefixAlpha1(r, c));
        Add<ListJobsRequest, ListJobsResponse>(context, "ListJobs", (api, r, c) => api.ListJobs(r, c));
        Add<ListJobsRequestAlpha1, ListJobsResponseAlpha1>(context, "ListJobsAlpha1", (api, r, c) => api.ListJobsAlpha1(r, c));
    }

    private static void Add<TRequest, TResponse>(ServiceMethodProviderContext<DaprGrpcApi> context, string name,
        Func<DaprGrpcApi, TRequest, ServerCallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var descriptor = DaprService.Descriptor.FindMethodByName(name)
            ?? throw new InvalidOperationException($"dapr.proto.runtime.v1.Dapr has no method {name}");
        if (descriptor.InputType.ClrType != typeof(TRequest) || descriptor.OutputType.ClrType != typeof(TResponse))
        {
            throw new InvalidOperationException($"{name} is bound with the wrong message types");
        }
        var method = new Method<TRequest, TResponse>(MethodType.Unary, DaprService.Descriptor.FullName, name,
            Marshallers.Create(m => m.ToByteArray(), new MessageParser<TRequest>(() => new TRequest()).ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), new MessageParser<TResponse>(() => new TResponse()).ParseFrom));
        context.AddUnaryMethod(method, [], async (api, request, callContext) =>
        {
            try
            {
                return await handler(api, request, callContext);
            }
            catch (DaprError e)
            {
                throw e.ToRpcException();
            }
        });
    }
}
