using Microsoft.Extensions.Options;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>
/// Establishes who calls (a verified access token, another app of the access table by its Dapr app ID, or nobody) and
/// enforces what each RPC declares with <see cref="PermissionAttribute"/>, <see cref="AnonymousAttribute"/> or
/// <see cref="AuthenticatedAttribute"/>, and what the access table lets each app call. An RPC of the app that declares
/// nothing is refused, so a forgotten declaration fails closed. gRPC health and reflection are open; Dapr's
/// AppCallback is only for the app's own sidecar. A singleton (registered in DI), so the rules resolved per method are kept.
/// </summary>
public sealed class AuthorizationInterceptor(AccessTokenValidator tokens, IOptions<SecurityOptions> security, ServiceOptions service, ILogger<AuthorizationInterceptor> logger) : Interceptor
{
    private readonly ConcurrentDictionary<string, Rule> _rules = new(StringComparer.Ordinal);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context, request as IMessage);
        return await continuation(request, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context, request as IMessage);
        await continuation(request, responseStream, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context, null);
        return await continuation(requestStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context, null);
        await continuation(requestStream, responseStream, context);
    }

    private async Task AuthorizeAsync(ServerCallContext context, IMessage? request)
    {
        var rule = _rules.GetOrAdd(context.Method, static (method, http) => Rule.For(method, http.GetEndpoint()?.Metadata), context.GetHttpContext());
        if (rule.Kind != RuleKind.Health)
        {
            RequireSidecar(context);
        }
        switch (rule.Kind)
        {
            case RuleKind.Health or RuleKind.Open:
                return;
            case RuleKind.Sidecar:
                RequireOwnSidecar(context);
                return;
            case RuleKind.Anonymous:
                context.SetCaller(await CallerOrAnonymousAsync(context));
                return;
            case RuleKind.Undeclared:
                logger.LogError("{Method} declares no permission: refused (add [Permission], [Authenticated] or [Anonymous])", context.Method);
                throw new PermissionDeniedException($"{context.Method} declares no permission");
        }
        var caller = await CallerAsync(context);
        if (caller.Kind == CallerKind.Anonymous)
        {
            throw new UnauthenticatedException("this call needs an access token (authorization: Bearer <token>) or an app the access table lets call it", "AUTHENTICATION_REQUIRED");
        }
        if (caller.Kind == CallerKind.App)
        {
            // An app may call only the RPCs the access table lists for it, and then acts for any user.
            if (!AccessPolicy.AppMayCall(caller.AppId!, context.Method))
            {
                logger.LogInformation("{Actor} denied {Method}: not in the access table", caller.Actor, context.Method);
                throw new PermissionDeniedException($"{caller.Actor} may not call {context.Method}");
            }
            context.SetCaller(caller with { Permission = rule.Permission?.Name });
            return;
        }
        context.SetCaller(caller);
        if (rule.Kind == RuleKind.Authenticated || Permits(rule.Permission!, caller, request))
        {
            return;
        }
        logger.LogInformation("{Actor} denied {Permission} on {Method}", caller.Actor, rule.Permission!.Name, context.Method);
        throw new PermissionDeniedException($"{caller.Actor} lacks permission {rule.Permission.Name}");
    }

    /// <summary>
    /// Dapr delivers events, binding events and job callbacks from the app's own sidecar, which stamps no caller. A call
    /// of AppCallback that another app sent through its sidecar by gRPC proxying carries the caller's and the callee's
    /// app IDs (every sidecar on the way sets them): it would let any app forge events, so it is refused.
    /// </summary>
    private static void RequireOwnSidecar(ServerCallContext context)
    {
        if (context.RequestHeaders.GetValue("dapr-caller-app-id") is not null || context.RequestHeaders.GetValue("dapr-callee-app-id") is not null)
        {
            throw new PermissionDeniedException($"{context.Method} is accepted only from the app's own sidecar, not proxied from another app");
        }
    }

    private static bool Permits(PermissionAttribute permission, Caller caller, IMessage? request)
    {
        switch (AccessPolicy.ScopeOf(caller.Roles, permission.Name))
        {
            case GrantScope.Any:
                return true;
            case GrantScope.Own when permission.OwnerCheckedByHandler:
                return true;
            case GrantScope.Own when permission.Owner is not null && request is not null && caller.UserId is not null:
                var field = request.Descriptor.FindFieldByName(permission.Owner)
                            ?? throw new InvalidOperationException($"{request.Descriptor.FullName} has no field '{permission.Owner}' named as owner");
                var owner = field.Accessor.GetValue(request) as string ?? "";
                return owner.Length == 0 ? permission.EmptyOwnerIsCaller : string.Equals(owner, caller.UserId, StringComparison.OrdinalIgnoreCase);
            default:
                return false;
        }
    }

    /// <summary>With an app API token configured, only the sidecar (which sends it as dapr-api-token) may call.</summary>
    private void RequireSidecar(ServerCallContext context)
    {
        if (security.Value.AppApiToken is not { } expected)
        {
            return;
        }
        var presented = context.RequestHeaders.GetValue("dapr-api-token") ?? "";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
        {
            throw new UnauthenticatedException("calls must come through the Dapr sidecar (dapr-api-token)", "APP_API_TOKEN");
        }
    }

    private async Task<Caller> CallerAsync(ServerCallContext context)
    {
        if (context.RequestHeaders.GetValue("authorization") is { } authorization)
        {
            const string scheme = "Bearer ";
            if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                throw new UnauthenticatedException("authorization must be 'Bearer <access token>'", "TOKEN_INVALID");
            }
            return await tokens.ValidateAsync(authorization[scheme.Length..].Trim(), context.CancellationToken);
        }
        // The app's own ID never counts: a client calling through the app's own sidecar gets it.
        var appId = context.RequestHeaders.GetValue("dapr-caller-app-id");
        return appId is not null && appId != service.Name && AccessPolicy.Apps.ContainsKey(appId) ? Caller.ForApp(appId) : Caller.Anonymous;
    }

    /// <summary>
    /// Anonymous RPCs ignore a token they cannot use rather than fail on it (e.g. Login with an old header, or keys out
    /// of reach): they serve anyone anyway.
    /// </summary>
    private async Task<Caller> CallerOrAnonymousAsync(ServerCallContext context)
    {
        try
        {
            return await CallerAsync(context);
        }
        catch (ServiceException e) when (e.Code is StatusCode.Unauthenticated or StatusCode.Unavailable)
        {
            return Caller.Anonymous;
        }
    }

    private enum RuleKind
    {
        Health,
        Open,
        Sidecar,
        Anonymous,
        Authenticated,
        Permission,
        Undeclared,
    }

    private sealed record Rule(RuleKind Kind, PermissionAttribute? Permission = null)
    {
        public static Rule For(string method, EndpointMetadataCollection? metadata)
        {
            if (method.StartsWith("/grpc.health.v1.", StringComparison.Ordinal))
            {
                return new(RuleKind.Health);
            }
            if (method.StartsWith("/grpc.reflection.", StringComparison.Ordinal))
            {
                return new(RuleKind.Open);
            }
            if (method.StartsWith("/dapr.proto.runtime.v1.AppCallback", StringComparison.Ordinal))
            {
                return new(RuleKind.Sidecar);
            }
            if (metadata?.GetMetadata<PermissionAttribute>() is { } permission)
            {
                return new(RuleKind.Permission, permission);
            }
            if (metadata?.GetMetadata<AnonymousAttribute>() is not null)
            {
                return new(RuleKind.Anonymous);
            }
            return metadata?.GetMetadata<AuthenticatedAttribute>() is not null ? new(RuleKind.Authenticated) : new(RuleKind.Undeclared);
        }
    }
}
