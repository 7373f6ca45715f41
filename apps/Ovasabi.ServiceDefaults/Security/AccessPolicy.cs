using System.Collections.Frozen;
using Ovasabi.Contracts;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

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

/// <summary>A role of the catalogue: its place in the order (0 = most privileged), what it is for and what it grants.</summary>
public sealed record RoleGrants(string Name, int Rank, string Description, IReadOnlyList<Grant> Grants);

/// <summary>An app of the platform: the gRPC services it serves and the RPCs (<c>package.Service/Method</c>) it may call as itself.</summary>
public sealed record AppGrants(string AppId, IReadOnlyList<string> Serves, IReadOnlySet<string> Calls);

/// <summary>
/// The platform's access table, read from the contract <c>protos/ovasabi/access.yaml</c>: what each role grants a
/// signed-in user, and what each app may call on the others. One table for every app, so that a permission means the
/// same everywhere, the auth service's Authorize answers what the apps enforce, and the chart's Dapr access control
/// and NetworkPolicies admit exactly what the apps allow.
/// </summary>
public static class AccessPolicy
{
    public const string Admin = "admin";
    public const string Support = "support";
    public const string User = "user";

    private static readonly (FrozenDictionary<string, RoleGrants> Roles, FrozenDictionary<string, AppGrants> Apps) Table = Load(ContractFiles.Read(ContractFiles.Access));

    /// <summary>The roles, most privileged first.</summary>
    public static IReadOnlyList<RoleGrants> Roles { get; } = [.. Table.Roles.Values.OrderBy(r => r.Rank)];

    public static FrozenDictionary<string, AppGrants> Apps => Table.Apps;

    /// <summary>The widest scope in which any of <paramref name="roles"/> grants <paramref name="permission"/>, or null.</summary>
    public static GrantScope? ScopeOf(IEnumerable<string> roles, string permission)
    {
        GrantScope? best = null;
        foreach (var role in roles)
        {
            foreach (var grant in Table.Roles.GetValueOrDefault(role)?.Grants ?? [])
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

    /// <summary>
    /// Whether a holder of <paramref name="callerRoles"/> may act on an account holding <paramref name="targetRoles"/>:
    /// only when the caller's most privileged role ranks at least as high as the target's (support does not act on
    /// administrators). Unknown roles rank below every known one.
    /// </summary>
    public static bool Outranks(IEnumerable<string> callerRoles, IEnumerable<string> targetRoles) => Highest(callerRoles) <= Highest(targetRoles);

    /// <summary>Whether app <paramref name="appId"/> may call <paramref name="method"/> (<c>/package.Service/Method</c> or without the slash).</summary>
    public static bool AppMayCall(string appId, string method) =>
        Table.Apps.TryGetValue(appId, out var app) && app.Calls.Contains(method.TrimStart('/'));

    /// <summary>The app that serves gRPC service <paramref name="service"/> (<c>package.Service</c>), or null.</summary>
    public static string? AppServing(string service) =>
        Table.Apps.Values.FirstOrDefault(app => app.Serves.Contains(service))?.AppId;

    private static int Highest(IEnumerable<string> roles) =>
        roles.Select(r => Table.Roles.TryGetValue(r, out var role) ? role.Rank : int.MaxValue).DefaultIfEmpty(int.MaxValue).Min();

    /// <summary>Parses the table; a malformed one fails the app at start with the reason.</summary>
    internal static (FrozenDictionary<string, RoleGrants> Roles, FrozenDictionary<string, AppGrants> Apps) Load(string yaml)
    {
        var file = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build().Deserialize<AccessFile>(yaml)
                   ?? throw new InvalidOperationException($"{ContractFiles.Access} is empty");
        var roles = (file.Roles ?? []).Select((pair, rank) => new RoleGrants(pair.Key, rank, pair.Value.Description ?? "",
            [.. (pair.Value.Any ?? []).Select(p => new Grant(p, GrantScope.Any)), .. (pair.Value.Own ?? []).Select(p => new Grant(p, GrantScope.Own))]));
        var apps = (file.Apps ?? []).Select(pair => new AppGrants(pair.Key, pair.Value.Serves ?? [],
            (pair.Value.Calls ?? []).ToFrozenSet(StringComparer.Ordinal)));
        return (roles.ToFrozenDictionary(r => r.Name, StringComparer.Ordinal), apps.ToFrozenDictionary(a => a.AppId, StringComparer.Ordinal));
    }

    private sealed class AccessFile
    {
        // Ordered: the roles' order in the file is their rank.
        public OrderedDictionary<string, RoleEntry>? Roles { get; set; }

        public OrderedDictionary<string, AppEntry>? Apps { get; set; }
    }

    private sealed class RoleEntry
    {
        public string? Description { get; set; }

        public List<string>? Any { get; set; }

        public List<string>? Own { get; set; }
    }

    private sealed class AppEntry
    {
        public List<string>? Serves { get; set; }

        public List<string>? Calls { get; set; }
    }
}
