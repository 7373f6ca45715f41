using Grpc.Core;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>The address of the client behind a call, for per-address limits and audit.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The <c>x-forwarded-for</c> entry appended by the outermost of <see cref="SecurityOptions.TrustedProxyHops"/>
    /// trusted proxies (entries before it are the client's to invent; behind Dapr the peer is always the sidecar), else
    /// the peer; at most 64 characters.
    /// </summary>
    public static string Of(ServerCallContext context, SecurityOptions security)
    {
        var forwarded = (context.RequestHeaders.GetValue("x-forwarded-for") ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var address = forwarded.Length == 0 || security.TrustedProxyHops == 0
            ? context.GetHttpContext().Connection.RemoteIpAddress?.ToString() ?? "unknown"
            : forwarded[Math.Max(0, forwarded.Length - security.TrustedProxyHops)];
        return address.Length > 64 ? address[..64] : address;
    }
}
