using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Invocation;

namespace Ovasabi.DevSidecar.Api;

/// <summary>
/// DAPR_API_TOKEN enforcement as daprd does it: HTTP answers 401 "invalid api token" (healthz exempt), gRPC answers
/// Unauthenticated "Unauthorized" with the reason in ErrorInfo metadata. The header is removed once checked.
/// </summary>
public sealed class ApiTokenCheck(SidecarOptions options)
{
    public const string MissingToken = "missing api token in request metadata";
    public const string TokenMismatch = "authentication error: api token mismatch";

    private readonly byte[]? _expected = options.ApiToken is null ? null : Encoding.UTF8.GetBytes(options.ApiToken);

    /// <summary>Null when the request may pass, else the reason it may not.</summary>
    public string? Check(HttpContext context)
    {
        if (_expected is null)
        {
            return null;
        }
        var presented = context.Request.Headers[InvocationHeaders.ApiToken].ToString();
        context.Request.Headers.Remove(InvocationHeaders.ApiToken);
        if (string.IsNullOrEmpty(presented))
        {
            return MissingToken;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _expected) ? null : TokenMismatch;
    }

    public static bool IsHealthRoute(PathString path) =>
        path.StartsWithSegments("/v1.0/healthz", StringComparison.OrdinalIgnoreCase);

    public static async Task WriteHttpRejectionAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync("invalid api token");
    }

    public static Task WriteGrpcRejectionAsync(HttpContext context, string reason)
    {
        var info = new ErrorInfo { Domain = "dapr.io" };
        info.Metadata["http.error_message"] = reason;
        info.Metadata["http.code"] = "401";
        var status = new Google.Rpc.Status { Code = (int)Grpc.Core.StatusCode.Unauthenticated, Message = "Unauthorized", Details = { Any.Pack(info) } };
        return GrpcResponses.WriteErrorAsync(context, Grpc.Core.StatusCode.Unauthenticated, "Unauthorized", status.ToByteArray());
    }
}

/// <summary>Writes gRPC errors from middleware (trailers-only responses), outside any gRPC service.</summary>
public static class GrpcResponses
{
    public static async Task WriteErrorAsync(HttpContext context, Grpc.Core.StatusCode code, string message, byte[]? details = null)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        if (details is not null)
        {
            context.Response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(details).TrimEnd('=');
        }
        await context.Response.CompleteAsync();
    }
}
