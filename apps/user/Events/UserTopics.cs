using Ovasabi.Contracts;
using Ovasabi.User.V1.Events;

namespace Ovasabi.User.Events;

/// <summary>The topics this service publishes, as its events.proto names them (UserTopic); payloads are in events.proto.</summary>
public static class UserTopics
{
    public static readonly string Created = TopicName.Of(UserTopic.UserCreated);
    public static readonly string Updated = TopicName.Of(UserTopic.UserUpdated);
    public static readonly string Suspended = TopicName.Of(UserTopic.UserSuspended);
    public static readonly string Deleted = TopicName.Of(UserTopic.UserDeleted);
    public static readonly string RoleAssigned = TopicName.Of(UserTopic.RoleAssigned);
    public static readonly string RoleRemoved = TopicName.Of(UserTopic.RoleRemoved);
    public static readonly string PreferencesUpdated = TopicName.Of(UserTopic.PreferencesUpdated);
    public static readonly string PasswordChanged = TopicName.Of(UserTopic.PasswordChanged);
}
