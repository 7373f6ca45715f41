namespace Ovasabi.Auth.Events;

/// <summary>The topics this service publishes (<c>&lt;service&gt;.&lt;entity&gt;.&lt;event&gt;</c>); payloads are in events.proto.</summary>
public static class AuthTopics
{
    public const string LoginSucceeded = "auth.login.succeeded";
    public const string LoginFailed = "auth.login.failed";
    public const string SessionRevoked = "auth.session.revoked";
    public const string TokenReuseDetected = "auth.token.reuse_detected";
}
