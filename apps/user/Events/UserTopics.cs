namespace Ovasabi.User.Events;

/// <summary>The topics this service publishes (<c>&lt;service&gt;.&lt;entity&gt;.&lt;event&gt;</c>); payloads are in events.proto.</summary>
public static class UserTopics
{
    public const string Created = "user.user.created";
    public const string Updated = "user.user.updated";
    public const string Suspended = "user.user.suspended";
    public const string Deleted = "user.user.deleted";
    public const string RoleAssigned = "user.role.assigned";
    public const string RoleRemoved = "user.role.removed";
    public const string PreferencesUpdated = "user.preferences.updated";
    public const string PasswordChanged = "user.password.changed";
}
