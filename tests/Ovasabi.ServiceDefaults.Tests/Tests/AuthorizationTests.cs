using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>
/// The library's authorization interceptor on an app of its own: an RPC that declares no permission is refused, and an
/// anonymous RPC ignores a broken token rather than failing on it. (Tokens, roles and ownership are covered by the
/// authorization matrix over the user and auth services.)
/// </summary>
[Collection(ProbeCollection.Name)]
public sealed class AuthorizationTests(ProbePlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_RPC_without_a_permission_declaration_is_PermissionDenied_naming_the_method()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await platform.Probe.Probe.UndeclaredAsync(new Empty(), cancellationToken: Cancel));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("/ovasabi.probe.v1.Probe/Undeclared declares no permission", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("PERMISSION_DENIED", error.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
    }

    [Fact]
    public async Task An_anonymous_RPC_called_with_a_garbage_bearer_token_still_answers()
    {
        var headers = new Metadata { { "authorization", "Bearer not-a-jwt" } };

        await platform.Probe.Probe.ValidateAsync(new ValidateRequest { Name = "ok", Email = "probe@example.com", Count = 1, Id = Guid.NewGuid().ToString() }, headers, cancellationToken: Cancel);
    }
}
