using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Notification.Grpc;

/// <summary>The webhook-endpoint RPCs of the notification API: administrators register, rotate and remove; users see theirs.</summary>
public sealed partial class NotificationGrpcService
{
    [Permission("notification.webhooks.create", Owner = "user_id")]
    public override async Task<WebhookEndpointWithSecret> CreateWebhookEndpoint(CreateWebhookEndpointRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        var binding = WebhookRules.Binding(validator, "binding", request.Binding, options.Value.WebhookBindings);
        var path = WebhookRules.Path(validator, "path", request.Path);
        var categories = WebhookRules.Categories(validator, "categories", request.Categories);
        validator.ThrowIfInvalid();
        await ExistingAsync(userId, context.CancellationToken);
        var (endpoint, secret) = await webhooks.CreateAsync(userId, binding, path, categories, context.CancellationToken);
        return new WebhookEndpointWithSecret { Endpoint = Map(endpoint), Secret = secret };
    }

    [Permission("notification.webhooks.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<ListWebhookEndpointsResponse> ListWebhookEndpoints(ListWebhookEndpointsRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        validator.ThrowIfInvalid();
        var response = new ListWebhookEndpointsResponse();
        response.Endpoints.AddRange((await webhooks.ListAsync(userId, context.CancellationToken)).Select(Map));
        return response;
    }

    [Permission("notification.webhooks.update", Owner = "user_id")]
    public override async Task<WebhookEndpointWithSecret> RotateWebhookSecret(RotateWebhookSecretRequest request, ServerCallContext context)
    {
        var (userId, endpointId) = EndpointOf(request.UserId, request.EndpointId, context);
        var (endpoint, secret) = await webhooks.RotateAsync(userId, endpointId, context.CancellationToken);
        return new WebhookEndpointWithSecret { Endpoint = Map(endpoint), Secret = secret };
    }

    [Permission("notification.webhooks.delete", Owner = "user_id")]
    public override async Task<DeleteWebhookEndpointResponse> DeleteWebhookEndpoint(DeleteWebhookEndpointRequest request, ServerCallContext context)
    {
        var (userId, endpointId) = EndpointOf(request.UserId, request.EndpointId, context);
        await webhooks.DeleteAsync(userId, endpointId, context.CancellationToken);
        return new DeleteWebhookEndpointResponse();
    }

    private static (Guid UserId, Guid EndpointId) EndpointOf(string user, string endpoint, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", user);
        var endpointId = validator.Id("endpoint_id", endpoint);
        validator.ThrowIfInvalid();
        return (userId, endpointId);
    }

    private static WebhookEndpoint Map(WebhookEndpointView endpoint)
    {
        var mapped = new WebhookEndpoint
        {
            EndpointId = endpoint.Id.ToString(),
            UserId = endpoint.UserId.ToString(),
            Binding = endpoint.Binding,
            Path = endpoint.Path,
            CreateTime = Timestamp.FromDateTimeOffset(endpoint.CreatedAt),
        };
        mapped.Categories.AddRange(endpoint.Categories);
        if (endpoint.PreviousSecretValidUntil is { } until)
        {
            mapped.PreviousSecretExpireTime = Timestamp.FromDateTimeOffset(until);
        }
        return mapped;
    }
}
