using Google.Protobuf;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Notification.V1;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using GrpcDapr = Dapr.Client.Autogen.Grpc.v1;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// The notification app with the apps whose events it turns into messages (user, auth, finance), on PostgreSQL and
/// Redis servers of its own. Tests also publish finance's events themselves, through finance's sidecar, to choose their
/// CloudEvent ids.
/// </summary>
public sealed class NotificationPlatform() : FinancePlatform(new PostgresServer(), new RedisServer(), ownsServers: true, "notification")
{
    public NotificationService.NotificationServiceClient Notification(string? accessToken = null) => new(InvokerVia(GatewaySidecar, "notification", accessToken));

    /// <summary>Publishes <paramref name="payload"/> on <paramref name="topic"/> as finance's outbox does, with CloudEvent id <paramref name="eventId"/>.</summary>
    public async Task PublishAsFinanceAsync(FinanceTopic topic, IMessage payload, string eventId)
    {
        var finance = FinanceSidecar.CreateGrpcClient();
        await finance.PublishEventAsync(new GrpcDapr.PublishEventRequest
        {
            PubsubName = "pubsub",
            Topic = TopicName.Of(topic),
            Data = ByteString.CopyFromUtf8(JsonFormatter.Default.Format(payload)),
            DataContentType = "application/json",
            Metadata = { ["cloudevent.id"] = eventId },
        });
    }

    public static MovementCompleted Transfer(string from, string to, string transactionId, string amount = "25.00") => new()
    {
        TransactionId = transactionId,
        UserId = from,
        CounterpartyUserId = to,
        Amount = new Money { CurrencyCode = "EUR", DecimalAmount = amount },
        OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 7, 9, 30, 0, TimeSpan.Zero)),
    };

    public static MovementCompleted Deposit(string to, string transactionId, string amount = "10.00") => Transfer(to, "", transactionId, amount);
}
