using Google.Rpc;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.Testing.Sidecars;
using Xunit;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.Testing.Platform;

/// <summary>
/// One caller of the authorization matrix: a person (anonymous, a user, support, an administrator) calling in through
/// the gateway, or an app of the access table calling as itself through its own sidecar.
/// </summary>
/// <param name="Name">The matrix column (<c>anonymous</c>, <c>user</c>, <c>own</c>, <c>support</c>, <c>admin</c>, <c>app:&lt;id&gt;</c>).</param>
/// <param name="UserId">The signed-in user, when the caller is one.</param>
public sealed record MatrixCaller(string Name, AppPlatform Platform, SidecarProcess Sidecar, string? AccessToken, string? UserId)
{
    /// <summary>Calls of app <paramref name="appId"/> made by this caller.</summary>
    public CallInvoker To(string appId) => Platform.InvokerVia(Sidecar, appId, AccessToken);
}

/// <summary>
/// The authorization matrix: every RPC of some services called by every kind of caller, through the sidecars as in
/// production (so both the sidecars' access control and the apps' checks decide). Allowed means the call got past
/// authorization, whatever the handler then answered; denied means a sidecar or the app refused it (PermissionDenied,
/// or Unauthenticated for want of a caller). Columns: anonymous, a user on another user's resource, a user on their
/// own, support, admin, then each app of the access table in its order, so a new app fails every matrix until its
/// column is decided. An RPC missing from a matrix fails it too.
/// </summary>
public static class AuthorizationMatrix
{
    public const bool A = true;
    public const bool D = false;

    public static IReadOnlyList<string> Columns { get; } = ["anonymous", "user", "own", "support", "admin", .. AccessPolicy.Apps.Keys.Select(app => "app:" + app)];

    /// <summary>One RPC: how to call it about a target user, and the expected outcome per column.</summary>
    /// <param name="EndsSession">The call ends the caller's session, so the row gets callers of its own.</param>
    public sealed record Row(string Method, Func<MatrixCaller, string, Task> Call, bool[] Expected, bool EndsSession = false);

    /// <summary>Fails unless the rows cover exactly the methods of <paramref name="services"/>, each with one outcome per column.</summary>
    public static void CoversEveryMethod(IReadOnlyList<Row> rows, params Google.Protobuf.Reflection.ServiceDescriptor[] services)
    {
        var declared = services.SelectMany(service => service.Methods.Select(m => $"{service.FullName}/{m.Name}"));
        Assert.Equal(declared.Order(StringComparer.Ordinal), rows.Select(r => r.Method).Order(StringComparer.Ordinal));
        var misshapen = rows.Where(r => r.Expected.Length != Columns.Count).Select(r => $"{r.Method}: {r.Expected.Length} outcomes").ToList();
        Assert.True(misshapen.Count == 0, $"each row needs one outcome per column ({string.Join(", ", Columns)}): {string.Join("; ", misshapen)}");
    }

    /// <summary>
    /// Calls every row as every caller (on a victim the administrator creates per row) and fails listing each outcome
    /// that differs from the table.
    /// </summary>
    public static async Task VerifyAsync(AppPlatform platform, IReadOnlyList<Row> rows)
    {
        var shared = await CallersAsync(platform);
        var mismatches = new List<string>();
        foreach (var row in rows)
        {
            // Victims are per row, since admins and support may suspend or delete them; a row that ends the caller's
            // session gets callers of its own.
            var victim = (await platform.CreateAccountAsync()).User.UserId;
            var callers = row.EndsSession ? await CallersAsync(platform) : shared;
            for (var column = 0; column < Columns.Count; column++)
            {
                var caller = callers[column];
                var target = caller.Name == "own" ? caller.UserId! : victim;
                var (allowed, outcome) = await OutcomeAsync(() => row.Call(caller, target));
                if (allowed != row.Expected[column])
                {
                    mismatches.Add($"{row.Method} as {caller.Name}: expected {(row.Expected[column] ? "allowed" : "denied")}, got {outcome}");
                }
            }
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    private static async Task<IReadOnlyList<MatrixCaller>> CallersAsync(AppPlatform platform)
    {
        var user = await platform.SignUpAsync();
        var support = await platform.SignUpAsync("support");
        var admin = await platform.SignUpAsync("admin");
        var gateway = platform.GatewaySidecar;
        List<MatrixCaller> callers =
        [
            new("anonymous", platform, gateway, null, null),
            new("user", platform, gateway, user.AccessToken, user.Id),
            new("own", platform, gateway, user.AccessToken, user.Id),
            new("support", platform, gateway, support.AccessToken, support.Id),
            new("admin", platform, gateway, admin.AccessToken, admin.Id),
        ];
        foreach (var app in AccessPolicy.Apps.Keys)
        {
            callers.Add(new("app:" + app, platform, await platform.SidecarOfAsync(app), null, null));
        }
        return callers;
    }

    /// <summary>Whether the call passed authorization, and what it answered.</summary>
    private static async Task<(bool Allowed, string Outcome)> OutcomeAsync(Func<Task> call)
    {
        try
        {
            await call();
            return (true, "OK");
        }
        catch (RpcException e)
        {
            var reason = e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason;
            var denied = (e.StatusCode == StatusCode.Unauthenticated && reason == "AUTHENTICATION_REQUIRED") || e.StatusCode == StatusCode.PermissionDenied;
            return (!denied, $"{e.StatusCode} {reason}: {e.Status.Detail}");
        }
    }
}
