using Grpc.Core;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.ServiceDefaults.Security;

public enum CallerKind
{
    Anonymous,
    User,
    App,
}

/// <summary>
/// Who is calling: a signed-in user (from a verified access token), another app of the platform acting as itself (by
/// the Dapr app ID its sidecar stamps), or nobody.
/// </summary>
/// <param name="Permission">For an app: the permission of the RPC the access table lets it call now, which it holds for any user.</param>
public sealed record Caller(
    CallerKind Kind, string? UserId, IReadOnlyList<string> Roles, string? SessionId = null, string? AppId = null, string? TokenId = null, string? Permission = null)
{
    public static Caller Anonymous { get; } = new(CallerKind.Anonymous, null, []);

    public static Caller ForApp(string appId) => new(CallerKind.App, null, [], AppId: appId);

    /// <summary>For logs and audit rows: <c>user:&lt;id&gt;</c>, <c>service:&lt;app-id&gt;</c> or <c>anonymous</c>.</summary>
    public string Actor => Kind switch
    {
        CallerKind.User => $"user:{UserId}",
        CallerKind.App => $"service:{AppId}",
        _ => "anonymous",
    };

    public bool Allows(string permission, string? ownerUserId) => Kind == CallerKind.App
        ? string.Equals(permission, Permission, StringComparison.Ordinal)
        : AccessPolicy.Allows(Roles, permission, UserId, ownerUserId);
}

public static class CallerExtensions
{
    private static readonly object Key = typeof(Caller);

    /// <summary>The caller the authorization interceptor established for this call.</summary>
    public static Caller GetCaller(this ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var caller) ? (Caller)caller : Caller.Anonymous;

    internal static void SetCaller(this ServerCallContext context, Caller caller) => context.UserState[Key] = caller;

    /// <summary>
    /// The user a request names in <paramref name="field"/>, or the calling user when it names none (for RPCs declared
    /// with <see cref="PermissionAttribute.EmptyOwnerIsCaller"/>). A problem is recorded on <paramref name="validator"/>.
    /// </summary>
    public static Guid TargetUser(this Caller caller, Validator validator, string field, string requested)
    {
        if (requested.Length == 0)
        {
            if (Guid.TryParse(caller.UserId, out var own))
            {
                return own;
            }
            validator.Add(field, "is required for a caller that is not a user");
            return Guid.Empty;
        }
        return validator.Id(field, requested);
    }

    /// <summary>For RPCs declared with <see cref="PermissionAttribute.OwnerCheckedByHandler"/>: fails unless the caller may act on the owner's resource.</summary>
    public static Caller EnsureAllowed(this ServerCallContext context, string permission, string? ownerUserId)
    {
        var caller = context.GetCaller();
        return caller.Allows(permission, ownerUserId) ? caller : throw new PermissionDeniedException($"{caller.Actor} may not {permission} here");
    }

    /// <summary>
    /// Fails unless the caller may act on an account holding <paramref name="targetRoles"/>: a user whose roles rank
    /// below the account's may not (support acting on an administrator). Apps act for the platform and pass.
    /// </summary>
    public static void EnsureOutranks(this Caller caller, IEnumerable<string> targetRoles)
    {
        if (caller.Kind == CallerKind.User && !AccessPolicy.Outranks(caller.Roles, targetRoles))
        {
            throw new PermissionDeniedException($"{caller.Actor} may not act on an account with a more privileged role");
        }
    }
}
