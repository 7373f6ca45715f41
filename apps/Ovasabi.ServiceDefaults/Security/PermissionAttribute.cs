namespace Ovasabi.ServiceDefaults.Security;

/// <summary>
/// Declares, next to an RPC's implementation, the permission a caller needs (e.g. <c>user.users.update</c>,
/// <c>&lt;service&gt;.&lt;entity&gt;.&lt;action&gt;</c>). The authorization interceptor refuses any RPC of the app's
/// services that declares neither a permission nor <see cref="AnonymousAttribute"/> or <see cref="AuthenticatedAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class PermissionAttribute(string name) : Attribute
{
    public string Name { get; } = name;

    /// <summary>
    /// The request field (proto name, e.g. <c>user_id</c>) naming the user the call acts on. A caller whose grant covers
    /// only their own resources passes when it names them. Without it such grants never satisfy the permission.
    /// </summary>
    public string? Owner { get; init; }

    /// <summary>An empty <see cref="Owner"/> field means the caller (e.g. "list my sessions").</summary>
    public bool EmptyOwnerIsCaller { get; init; }

    /// <summary>
    /// The owner is only known once the handler has loaded the resource (e.g. a session by its ID): own-scoped grants
    /// pass the interceptor and the handler must call <see cref="CallerExtensions.EnsureAllowed"/> with the owner.
    /// </summary>
    public bool OwnerCheckedByHandler { get; init; }
}

/// <summary>Anyone may call this RPC, signed in or not (sign-in itself, public keys, self-registration).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class AnonymousAttribute : Attribute;

/// <summary>Any signed-in user or trusted service may call this RPC; it checks nothing more.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class AuthenticatedAttribute : Attribute;
