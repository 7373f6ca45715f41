using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;

namespace Ovasabi.Notification.Grpc;

/// <summary>Channels as the API names them and as the service stores them.</summary>
public static class ChannelNames
{
    public static Channel ToProto(string channel) => channel switch
    {
        Channels.Email => Channel.Email,
        Channels.InApp => Channel.InApp,
        Channels.Sms => Channel.Sms,
        Channels.Webhook => Channel.Webhook,
        _ => Channel.Unspecified,
    };

    /// <summary>The stored name of a channel, else null (unspecified).</summary>
    public static string? Stored(Channel channel) => channel switch
    {
        Channel.Email => Channels.Email,
        Channel.InApp => Channels.InApp,
        Channel.Sms => Channels.Sms,
        Channel.Webhook => Channels.Webhook,
        _ => null,
    };

    /// <summary>The stored name of a channel users have preferences for, else null.</summary>
    public static string? Preferable(Channel channel) => channel switch
    {
        Channel.Email => Channels.Email,
        Channel.Sms => Channels.Sms,
        Channel.InApp => Channels.InApp,
        _ => null,
    };
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
    };

    public static MessageStatus ToProto(string status) => ToApi.GetValueOrDefault(status, MessageStatus.Unspecified);

    /// <summary>The stored name of a status, else null (unspecified).</summary>
    public static string? Stored(MessageStatus status) => ToApi.FirstOrDefault(pair => pair.Value == status).Key;
}
