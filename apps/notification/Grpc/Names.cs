using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;

namespace Ovasabi.Notification.Grpc;

/// <summary>Channels as the API names them and as the service stores them.</summary>
public static class ChannelNames
{
    private static readonly Dictionary<string, Channel> ToApi = new()
    {
        [Channels.Email] = Channel.Email,
        [Channels.InApp] = Channel.InApp,
        [Channels.Sms] = Channel.Sms,
        [Channels.Webhook] = Channel.Webhook,
    };

    public static Channel ToProto(string channel) => ToApi.GetValueOrDefault(channel, Channel.Unspecified);

    /// <summary>The stored name of a channel, else null (unspecified or unknown).</summary>
    public static string? Stored(Channel channel) => ToApi.FirstOrDefault(pair => pair.Value == channel).Key;

    /// <summary>The stored name of a channel users have preferences for, else null.</summary>
    public static string? Preferable(Channel channel) => Stored(channel) is { } name && Preferences.Channels.Contains(name) ? name : null;
}

/// <summary>Statuses as the API names them and as the service stores them.</summary>
public static class StatusNames
{
    private static readonly Dictionary<string, MessageStatus> ToApi = new()
    {
        [MessageStatuses.Scheduled] = MessageStatus.Scheduled,
        [MessageStatuses.Sending] = MessageStatus.Sending,
        [MessageStatuses.Sent] = MessageStatus.Sent,
        [MessageStatuses.Failed] = MessageStatus.Failed,
        [MessageStatuses.Suppressed] = MessageStatus.Suppressed,
        [MessageStatuses.Read] = MessageStatus.Read,
        [MessageStatuses.Throttled] = MessageStatus.Throttled,
        [MessageStatuses.Canceled] = MessageStatus.Canceled,
        [MessageStatuses.Digested] = MessageStatus.Digested,
    };

    public static MessageStatus ToProto(string status) => ToApi.GetValueOrDefault(status, MessageStatus.Unspecified);

    /// <summary>The stored name of a status, else null (unspecified).</summary>
    public static string? Stored(MessageStatus status) => ToApi.FirstOrDefault(pair => pair.Value == status).Key;
}
