using Google.Protobuf.WellKnownTypes;
using Ovasabi.Contracts;
using Ovasabi.Sample.Domain;
using Ovasabi.Sample.V1.Events;

namespace Ovasabi.Sample.Events;

/// <summary>The events this service announces; their topics are read from events.proto (SampleTopic).</summary>
public static class SampleEvents
{
    public static readonly string ItemCreatedTopic = TopicName.Of(SampleTopic.ItemCreated);

    public static ItemCreated ItemCreated(ItemView item, DateTimeOffset now) => new()
    {
        ItemId = item.Id.ToString(),
        OwnerUserId = item.OwnerUserId.ToString(),
        OccurredAt = Timestamp.FromDateTimeOffset(now),
    };
}
