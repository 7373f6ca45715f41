using Ovasabi.DevSidecar.Api;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Observability;
using Ovasabi.DevSidecar.Resiliency;
using Polly;
using Polly.Retry;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>
/// Service invocation. The caller's sidecar resolves the target app ID and sends the call over HTTP/2 to the target
/// sidecar's internal port (daprd uses its internal gRPC API there); the target sidecar applies access control and
/// calls its app through the app channel.
/// </summary>
public sealed class ServiceInvocation(
    SidecarOptions options,
    INameResolver resolver,
    ResiliencyPolicies resiliency,
    IHttpClientFactory httpClients,
    AppConnection app,
    AccessControl accessControl,
    SidecarMetrics metrics)
{
    public const string InternalClient = "dapr-internal";

    // daprd retries sidecar-to-sidecar transport failures 3 times, 1 s apart, when no Resiliency policy targets the app.
    private static readonly ResiliencePipeline BuiltInRetry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromSeconds(1),
            BackoffType = DelayBackoffType.Constant,
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>(),
        })
        .Build();

    /// <summary>Invokes a method of <paramref name="targetAppId"/> on behalf of this sidecar's app.</summary>
    public async Task<InvokeResult> InvokeAsync(string targetAppId, InvokeMessage message, string? callerAddress, CancellationToken cancellationToken)
    {
        // daprd normalizes the method once, at the edge, and both ACL and app see that form.
        message = message with { Method = InvocationMethod.Normalize(message.Method, out var invalid) ?? throw DaprErrors.DirectInvoke(targetAppId, $"invalid method: {invalid}") };
        var policy = resiliency.ForApp(targetAppId);
        InvokeResult result;
        try
        {
            result = policy is null
                ? await BuiltInRetry.ExecuteAsync(async ct => await SendAsync(targetAppId, message, callerAddress, ct), cancellationToken)
                : await policy.ExecuteAsync(async ct =>
                {
                    var attempt = await SendAsync(targetAppId, message, callerAddress, ct);
                    // With a Resiliency policy on the app, daprd counts non-2xx answers as failures.
                    return attempt.Status is >= 200 and < 300
                        ? attempt
                        : throw new FailedOutcomeException($"app answered {attempt.Status}", attempt.Status, outcome: attempt);
                }, cancellationToken);
        }
        catch (FailedOutcomeException e) when (e.Outcome is InvokeResult last)
        {
            result = last;
        }
        catch (Exception e) when (e is not (DaprError or OperationCanceledException) || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            metrics.Invoked(targetAppId, 500);
            throw DaprErrors.DirectInvoke(targetAppId, e.Message);
        }
        metrics.Invoked(targetAppId, result.Status);
        return result;
    }

    private async Task<InvokeResult> SendAsync(string targetAppId, InvokeMessage message, string? callerAddress, CancellationToken cancellationToken)
    {
        var (appId, _) = SplitNamespace(targetAppId);
        var address = await resolver.ResolveAsync(appId, cancellationToken)
            ?? throw DaprErrors.DirectInvoke(targetAppId, $"couldn't find service: {targetAppId}");
        var uri = InvocationMethod.ExactUri($"http://{address}/v1.0/invoke/{Uri.EscapeDataString(appId)}/method/{InvocationMethod.ToSidecarPath(message.Method)}{message.QueryString}");
        // The internal port speaks only HTTP/2; HttpClient.DefaultRequestVersion does not apply to SendAsync.
        using var request = new HttpRequestMessage(new HttpMethod(message.Verb), uri)
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (message.Body.Length > 0 || message.ContentType is not null)
        {
            request.Content = new ByteArrayContent(message.Body);
        }
        InvocationHeaders.CopyTo(request, message.Headers.Where(h => InvocationHeaders.IsForwardable(h.Key)));
        request.Headers.TryAddWithoutValidation(InvocationHeaders.CallerAppId, options.AppId);
        request.Headers.TryAddWithoutValidation(InvocationHeaders.CalleeAppId, appId);
        request.Headers.TryAddWithoutValidation(InvocationHeaders.CallerNamespace, options.Namespace ?? "");
        if (callerAddress is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", callerAddress);
            request.Headers.TryAddWithoutValidation("Forwarded", $"for={callerAddress};by={options.AppId}");
        }
        using var response = await httpClients.CreateClient(InternalClient).SendAsync(request, cancellationToken);
        return await InvokeResult.FromResponseAsync(response, cancellationToken);
    }

    /// <summary>Handles an invocation that reached this sidecar for its own app.</summary>
    public async Task<InvokeResult> InvokeLocalAsync(InvokeMessage message, string? callerAppId, string? callerNamespace, CancellationToken cancellationToken)
    {
        message = message with { Method = InvocationMethod.Normalize(message.Method, out var invalid) ?? throw DaprErrors.DirectInvoke(options.AppId, $"invalid method: {invalid}") };
        if (!accessControl.IsAllowed(callerAppId, callerNamespace, message.Method, message.Verb))
        {
            throw new DaprError(Grpc.Core.StatusCode.PermissionDenied, 403, "ERR_DIRECT_INVOKE",
                $"access control policy has denied access to appid: {callerAppId} operation: {message.Method} verb: {message.Verb}");
        }
        var channel = app.Channel ?? throw new DaprError(Grpc.Core.StatusCode.Internal, 500, "ERR_DIRECT_INVOKE", "app channel is not initialized");
        if (!app.IsHealthy)
        {
            throw new DaprError(Grpc.Core.StatusCode.Internal, 500, "ERR_DIRECT_INVOKE", "app is not in a healthy state");
        }
        using var slot = await app.EnterAsync(cancellationToken);
        try
        {
            return await channel.InvokeAsync(message, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw DaprErrors.DirectInvoke(options.AppId, $"error invoking app channel: {e.Message}");
        }
    }

    /// <summary>An app ID may carry a namespace as <c>app.namespace</c>.</summary>
    public static (string AppId, string? Namespace) SplitNamespace(string target)
    {
        var dot = target.LastIndexOf('.');
        return dot > 0 ? (target[..dot], target[(dot + 1)..]) : (target, null);
    }
}
