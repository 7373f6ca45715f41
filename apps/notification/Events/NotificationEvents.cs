using Google.Protobuf.WellKnownTypes;
using Ovasabi.Contracts;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;
using Ovasabi.Notification.V1.Events;

namespace Ovasabi.Notification.Events;

/// <summary>The events this service announces; their topics are read from events.proto (NotificationTopic).</summary>
public static class NotificationEvents
{
    public static readonly string MessageSentTopic = TopicName.Of(NotificationTopic.MessageSent);
    public static readonly string InAppCreatedTopic = TopicName.Of(NotificationTopic.InappCreated);
    public static readonly string MessageFailedTopic = TopicName.Of(NotificationTopic.MessageFailed);

    public static InAppCreated InAppCreated(Guid userId, InboxItemView item) => new()
    {
        MessageId = item.Id.ToString(),
        UserId = userId.ToString(),
        Category = item.Category,
        NotificationKey = item.NotificationKey,
        Title = item.Title,
        BodyText = item.Text,
        Data = Struct.Parser.ParseJson(item.DataJson),
        CreateTime = Timestamp.FromDateTimeOffset(item.CreatedAt),
        Critical = item.Critical,
    };

    public static MessageSent Sent(Guid userId, string channel, Guid messageId, string category, string notificationKey, DateTimeOffset sentAt) => new()
    {
        MessageId = messageId.ToString(),
        UserId = userId.ToString(),
        Channel = Grpc.ChannelNames.ToProto(channel),
        Category = category,
        NotificationKey = notificationKey,
        SentAt = Timestamp.FromDateTimeOffset(sentAt),
    };

    public static MessageFailed Failed(Guid userId, string channel, Guid messageId, string category, string notificationKey, string reason, int attempts,
        DateTimeOffset failedAt) => new()
    {
        MessageId = messageId.ToString(),
        UserId = userId.ToString(),
        Channel = Grpc.ChannelNames.ToProto(channel),
        Category = category,
        NotificationKey = notificationKey,
        Reason = reason,
        Attempts = attempts,
        FailedAt = Timestamp.FromDateTimeOffset(failedAt),
    };
}
