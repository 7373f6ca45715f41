using System.Diagnostics;
using Ovasabi.DevSidecar.Api;
using Ovasabi.DevSidecar.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>
/// gRPC proxying (daprd's unknown-service handler): a call on the sidecar's gRPC port that carries <c>dapr-app-id</c>
/// and is not for the Dapr API goes, frames untouched (unary and streaming), to the target's sidecar and from there to
/// the target app. YARP forwards the HTTP/2 streams; the hops stamp and strip Dapr's headers.
/// </summary>
public sealed class GrpcProxy(
    SidecarOptions options,
    INameResolver resolver,
    IHttpForwarder forwarder,
    AccessControl accessControl,
    AppConnection app,
    ILogger<GrpcProxy> logger) : IDisposable
{
    private const string DaprServicePrefix = "/dapr.proto.runtime.v1.Dapr/";

    private static readonly ForwarderRequestConfig Http2Only = new()
    {
        Version = System.Net.HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        ActivityTimeout = Timeout.InfiniteTimeSpan,
    };

    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    });

    /// <summary>True for calls on the gRPC port that are to be proxied to another app.</summary>
    /// <remarks>The app names the target with <c>dapr-app-id</c>; a <c>dapr-callee-app-id</c> it sends is replaced, as daprd's proxy does.</remarks>
    public static bool IsProxyCall(HttpContext context) =>
        context.Request.Headers[InvocationHeaders.AppId].ToString().Length > 0
        && !context.Request.Path.StartsWithSegments(DaprServicePrefix.TrimEnd('/'), StringComparison.Ordinal);

    /// <summary>Caller side: sends the call to the sidecar that serves the target app ID.</summary>
    public async Task ForwardToSidecarAsync(HttpContext context)
    {
        var target = context.Request.Headers[InvocationHeaders.AppId].ToString();
        var (appId, _) = ServiceInvocation.SplitNamespace(target);
        var address = await resolver.ResolveAsync(appId, context.RequestAborted);
        if (address is null)
        {
            // daprd fails the proxied call with a plain error (gRPC Unknown) when the app ID cannot be resolved.
            await GrpcResponses.WriteErrorAsync(context, Grpc.Core.StatusCode.Unknown, $"failed to proxy request: couldn't find service: {target}");
            return;
        }
        var transformer = new HeaderTransformer(headers =>
        {
            headers.Remove(InvocationHeaders.ApiToken);
            headers.Remove(InvocationHeaders.CallerAppId);
            headers.Remove(InvocationHeaders.CalleeAppId);
            headers.TryAddWithoutValidation(InvocationHeaders.CallerAppId, options.AppId);
            headers.TryAddWithoutValidation(InvocationHeaders.CalleeAppId, appId);
        });
        await ForwardAsync(context, $"http://{address}", transformer);
    }

    /// <summary>Callee side: the call arrived on the internal port for this sidecar's app.</summary>
    public async Task ForwardToAppAsync(HttpContext context)
    {
        if (!options.IsGrpcApp || app.Channel is null)
        {
            await GrpcResponses.WriteErrorAsync(context, Grpc.Core.StatusCode.Unavailable,
                $"failed to proxy request: app {options.AppId} does not run with app-protocol grpc");
            return;
        }
        var caller = context.Request.Headers[InvocationHeaders.CallerAppId].ToString();
        if (!accessControl.IsAllowed(caller, context.Request.Headers[InvocationHeaders.CallerNamespace].ToString(), context.Request.Path.Value ?? "", "*"))
        {
            await GrpcResponses.WriteErrorAsync(context, Grpc.Core.StatusCode.PermissionDenied,
                $"access control policy has denied access to appid: {caller} operation: {context.Request.Path} verb: NONE");
            return;
        }
        var transformer = new HeaderTransformer(headers =>
        {
            headers.Remove(InvocationHeaders.ApiToken);
            if (options.AppApiToken is not null)
            {
                headers.TryAddWithoutValidation(InvocationHeaders.ApiToken, options.AppApiToken);
            }
        });
        using var slot = await app.EnterAsync(context.RequestAborted);
        await ForwardAsync(context, $"http://{options.AppChannelAddress}:{options.AppPort}", transformer);
    }

    private async Task ForwardAsync(HttpContext context, string destination, HttpTransformer transformer)
    {
        var error = await forwarder.SendAsync(context, destination, _client, Http2Only, transformer);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            var failure = context.GetForwarderErrorFeature()?.Exception;
            logger.LogWarning("gRPC proxy to {Destination} failed: {Error} {Reason}", destination, error, failure?.Message);
            await GrpcResponses.WriteErrorAsync(context, Grpc.Core.StatusCode.Unavailable, $"failed to proxy request: {failure?.Message ?? error.ToString()}");
        }
    }

    public void Dispose() => _client.Dispose();

    private sealed class HeaderTransformer(Action<System.Net.Http.Headers.HttpRequestHeaders> adjust) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            // Each hop names its own destination as :authority, as daprd's gRPC client does when it dials the app.
            proxyRequest.Headers.Host = null;
            adjust(proxyRequest.Headers);
        }
    }
}
