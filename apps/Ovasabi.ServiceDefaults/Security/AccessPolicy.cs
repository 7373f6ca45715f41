using System.Collections.Frozen;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>How far a grant reaches: the caller's own resources, or everyone's.</summary>
public enum GrantScope
{
    Own,
    Any,
}

/// <summary>
/// A permission pattern: dot-separated segments, <c>*</c> matching any one segment, and a lone <c>*</c> matching
/// every permission.
/// </summary>
public sealed record Grant(string Pattern, GrantScope Scope)
{
    private readonly string[] _segments = Pattern.Split('.');

    public bool Matches(string permission)
    {
        if (Pattern == "*")
        {
            return true;
        }
        var segments = permission.Split('.');
        return segments.Length == _segments.Length
               && _segments.Zip(segments).All(pair => pair.First == "*" || string.Equals(pair.First, pair.Second, StringComparison.Ordinal));
    }
}

/// <summary>
/// What each role of the user service's catalogue may do on the platform. One table for every app, so that a
/// permission means the same everywhere and the auth service's Authorize answers what the apps enforce.
/// </summary>
public static class AccessPolicy
{
    public const string Admin = "admin";
    public const string Support = "support";
    public const string User = "user";
    public const string Service = "service";

    public static FrozenDictionary<string, IReadOnlyList<Grant>> Grants { get; } = new Dictionary<string, IReadOnlyList<Grant>>(StringComparer.Ordinal)
    {
        [Admin] = [new("*", GrantScope.Any)],
        [Support] =
        [
            new("*.*.read", GrantScope.Any),
            new("*.*.list", GrantScope.Any),
            new("user.users.suspend", GrantScope.Any),
            new("user.users.reactivate", GrantScope.Any),
            new("auth.sessions.revoke", GrantScope.Any),
        ],
        [User] =
        [
            new("user.users.read", GrantScope.Own),
            new("user.users.update", GrantScope.Own),
            new("user.users.delete", GrantScope.Own),
            new("user.credentials.change", GrantScope.Own),
            new("user.roles.read", GrantScope.Own),
            new("user.preferences.read", GrantScope.Own),
            new("user.preferences.write", GrantScope.Own),
            new("auth.sessions.read", GrantScope.Own),
            new("auth.sessions.revoke", GrantScope.Own),
            // Users spend their own money; what comes in (deposits, holds settled) is posted by services and admins.
            new("finance.balances.read", GrantScope.Own),
            new("finance.transactions.read", GrantScope.Own),
            new("finance.transactions.list", GrantScope.Own),
            new("finance.statements.read", GrantScope.Own),
            new("finance.withdrawals.create", GrantScope.Own),
            new("finance.transfers.create", GrantScope.Own),
        ],
        // Other ovasabi services, acting for the platform rather than for one user.
        [Service] =
        [
            new("user.users.read", GrantScope.Any),
            new("user.roles.read", GrantScope.Any),
            new("user.credentials.verify", GrantScope.Any),
            new("auth.tokens.authorize", GrantScope.Any),
            new("finance.balances.read", GrantScope.Any),
            new("finance.transactions.read", GrantScope.Any),
            new("finance.transactions.list", GrantScope.Any),
            new("finance.statements.read", GrantScope.Any),
            new("finance.deposits.create", GrantScope.Any),
            new("finance.withdrawals.create", GrantScope.Any),
            new("finance.transfers.create", GrantScope.Any),
            new("finance.holds.create", GrantScope.Any),
            new("finance.holds.release", GrantScope.Any),
            new("finance.holds.capture", GrantScope.Any),
        ],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The widest scope in which any of <paramref name="roles"/> grants <paramref name="permission"/>, or null.</summary>
    public static GrantScope? ScopeOf(IEnumerable<string> roles, string permission)
    {
        GrantScope? best = null;
        foreach (var role in roles)
        {
            foreach (var grant in Grants.GetValueOrDefault(role, []))
            {
                if (grant.Matches(permission) && (best is null || grant.Scope > best))
                {
                    best = grant.Scope;
                }
            }
        }
        return best;
    }

    /// <summary>
    /// Whether roles allow <paramref name="permission"/> on a resource of <paramref name="ownerUserId"/> (null: a
    /// resource no user owns) for the user <paramref name="callerUserId"/>.
    /// </summary>
    public static bool Allows(IEnumerable<string> roles, string permission, string? callerUserId, string? ownerUserId) =>
        ScopeOf(roles, permission) switch
        {
            GrantScope.Any => true,
            GrantScope.Own => callerUserId is not null && ownerUserId is not null && string.Equals(callerUserId, ownerUserId, StringComparison.OrdinalIgnoreCase),
            _ => false,
        };
}
