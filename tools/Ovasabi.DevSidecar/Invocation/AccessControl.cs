using System.Text.RegularExpressions;
using Ovasabi.DevSidecar.Resources;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>
/// The callee-side invocation allow-list of a Configuration (<c>spec.accessControl</c>), evaluated as RT:pkg/acl/acl.go
/// does. daprd identifies the caller by its mTLS SPIFFE ID; the dev sidecar trusts the <c>dapr-caller-app-id</c> that
/// the calling dev sidecar stamps.
/// </summary>
public sealed class AccessControl
{
    private readonly AccessControlModel? _model;
    private readonly bool _appIsHttp;
    private readonly string _defaultAction;
    private readonly List<(AppPolicyModel Policy, List<(Regex Name, HashSet<string> Verbs, bool Allow)> Operations)> _policies;

    /// <param name="appIsHttp">daprd matches HTTP verbs and compares names case-insensitively only when the app speaks HTTP.</param>
    public AccessControl(AccessControlModel? model, bool appIsHttp)
    {
        _model = model;
        _appIsHttp = appIsHttp;
        // Without a global defaultAction, daprd denies once any app policy exists (and allows otherwise).
        _defaultAction = model?.DefaultAction is { Length: > 0 } action ? action : model?.Policies is { Count: > 0 } ? "deny" : "allow";
        _policies = (model?.Policies ?? []).Select(p => (p, (p.Operations ?? []).Select(o =>
            (Glob(o.Name ?? "/**", appIsHttp),
             (o.HttpVerb ?? []).Select(v => v.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal),
             Allows(o.Action))).ToList())).ToList();
    }

    public bool Enabled => _model is not null;

    /// <summary>Whether <paramref name="callerAppId"/> may call <paramref name="operation"/> (a path, or /pkg.Service/Method) with <paramref name="verb"/>.</summary>
    public bool IsAllowed(string? callerAppId, string? callerNamespace, string operation, string verb)
    {
        if (_model is null)
        {
            return true;
        }
        var path = "/" + operation.TrimStart('/');
        foreach (var (policy, operations) in _policies)
        {
            if (policy.AppId != callerAppId || (!string.IsNullOrEmpty(policy.Namespace) && !string.IsNullOrEmpty(callerNamespace) && policy.Namespace != callerNamespace))
            {
                continue;
            }
            var appDefault = Allows(policy.DefaultAction is { Length: > 0 } own ? own : _defaultAction);
            // The first operation whose name matches decides; a gRPC app's calls ignore httpVerb, an HTTP app's call
            // whose verb the operation does not list falls back to the app's default.
            foreach (var (name, verbs, allow) in operations)
            {
                if (name.IsMatch(path))
                {
                    return !_appIsHttp || verbs.Contains("*") || verbs.Contains(verb.ToUpperInvariant()) ? allow : appDefault;
                }
            }
            return appDefault;
        }
        return Allows(_defaultAction);
    }

    private static bool Allows(string? action) => string.Equals(action, "allow", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// daprd's operation names: <c>*</c> matches within one path segment, a trailing <c>/*</c> one segment and a
    /// trailing <c>/**</c> any number, both also matching the bare prefix (daprd's operation trie does).
    /// </summary>
    private static Regex Glob(string pattern, bool ignoreCase)
    {
        var normalized = "/" + pattern.TrimStart('/');
        var tail = "";
        if (normalized.EndsWith("/**", StringComparison.Ordinal))
        {
            (normalized, tail) = (normalized[..^3], "(/.*)?");
        }
        else if (normalized.EndsWith("/*", StringComparison.Ordinal))
        {
            (normalized, tail) = (normalized[..^2], "(/[^/]*)?");
        }
        var regex = Regex.Escape(normalized).Replace(@"\*\*", "\u0001", StringComparison.Ordinal).Replace(@"\*", "[^/]*", StringComparison.Ordinal).Replace("\u0001", ".*", StringComparison.Ordinal);
        return new Regex("^" + regex + tail + "$", RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None));
    }
}
