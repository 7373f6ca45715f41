using Ovasabi.Auth.V1.Events;
using Ovasabi.Contracts;

namespace Ovasabi.Auth.Events;

/// <summary>The topics this service publishes, as its events.proto names them (AuthTopic); payloads are in events.proto.</summary>
public static class AuthTopics
{
    public static readonly string LoginSucceeded = TopicName.Of(AuthTopic.LoginSucceeded);
    public static readonly string LoginFailed = TopicName.Of(AuthTopic.LoginFailed);
    public static readonly string SessionRevoked = TopicName.Of(AuthTopic.SessionRevoked);
    public static readonly string TokenReuseDetected = TopicName.Of(AuthTopic.TokenReuseDetected);
}
