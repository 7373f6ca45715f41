using System.Text.RegularExpressions;
using Ovasabi.DevSidecar.Resources;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>
/// The callee-side invocation allow-list of a Configuration (<c>spec.accessControl</c>). daprd identifies the caller by
/// its mTLS SPIFFE ID; the dev sidecar trusts the <c>dapr-caller-app-id</c> that the calling dev sidecar stamps.
/// </summary>
public sealed class AccessControl
{
    private readonly AccessControlModel? _model;
    private readonly List<(AppPolicyModel Policy, List<(Regex Name, HashSet<string> Verbs, bool Allow)> Operations)> _policies;

    public AccessControl(AccessControlModel? model)
    {
        _model = model;
        _policies = (model?.Policies ?? []).Select(p => (p, (p.Operations ?? []).Select(o =>
            (Glob(o.Name ?? "/**"),
             (o.HttpVerb is { Count: > 0 } verbs ? verbs : ["*"]).Select(v => v.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal),
             !string.Equals(o.Action, "deny", StringComparison.OrdinalIgnoreCase))).ToList())).ToList();
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
            foreach (var (name, verbs, allow) in operations)
            {
                if (name.IsMatch(path) && (verbs.Contains("*") || verbs.Contains(verb.ToUpperInvariant())))
                {
                    return allow;
                }
            }
            return Allows(policy.DefaultAction ?? _model.DefaultAction);
        }
        return Allows(_model.DefaultAction);
    }

    private static bool Allows(string? action) => !string.Equals(action, "deny", StringComparison.OrdinalIgnoreCase);

    /// <summary>daprd's operation names: <c>*</c> matches one path segment, <c>**</c> any number.</summary>
    private static Regex Glob(string pattern)
    {
        var normalized = "/" + pattern.TrimStart('/');
        var regex = Regex.Escape(normalized).Replace(@"\*\*", "\u0001", StringComparison.Ordinal).Replace(@"\*", "[^/]*", StringComparison.Ordinal).Replace("\u0001", ".*", StringComparison.Ordinal);
        return new Regex("^" + regex + "$", RegexOptions.CultureInvariant);
    }
}
