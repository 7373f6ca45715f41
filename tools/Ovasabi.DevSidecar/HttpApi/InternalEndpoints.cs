using Microsoft.AspNetCore.Http.Features;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Invocation;

namespace Ovasabi.DevSidecar.HttpApi;

/// <summary>The internal port: invocations that another sidecar forwards to this sidecar's app.</summary>
public static class InternalEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.Map("/v1.0/invoke/{id}/method/{**method}", async (HttpContext context, string id, ServiceInvocation invocation, SidecarOptions options) =>
        {
            if (Uri.UnescapeDataString(id) != options.AppId)
            {
                return HttpEndpoints.Error(404, "ERR_DIRECT_INVOKE", $"this sidecar serves {options.AppId}, not {id}");
            }
            var raw = (context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "").Split('?')[0];
            var method = InvocationMethod.Decode(raw[(raw.IndexOf("/method/", StringComparison.Ordinal) + "/method/".Length)..]);
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var headers = context.Request.Headers
                .Where(h => InvocationHeaders.IsForwardable(h.Key) || h.Key is InvocationHeaders.CallerAppId or InvocationHeaders.CalleeAppId or InvocationHeaders.CallerNamespace)
                .SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? "")))
                .ToList();
            var message = new InvokeMessage(context.Request.Method, method, context.Request.QueryString.Value ?? "", headers, body.ToArray(), context.Request.ContentType);
            var result = await invocation.InvokeLocalAsync(message,
                context.Request.Headers[InvocationHeaders.CallerAppId].ToString(),
                context.Request.Headers[InvocationHeaders.CallerNamespace].ToString(),
                context.RequestAborted);
            return HttpEndpoints.Relay(result);
        });
}
