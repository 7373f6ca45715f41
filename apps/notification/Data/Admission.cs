using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.Events;

namespace Ovasabi.Notification.Data;

/// <summary>Who a notice goes to, as the channels need it: the language to render in, and the email address.</summary>
public sealed record Addressee(string? Locale, string? Email);

/// <summary>
/// Turns notices into messages inside the caller's transaction (an event's inbox transaction): one per channel the
/// notification has a template for, each rendered once in its recipient's language, written at most once per fact,
/// recipient and channel (a unique index decides, also between two replicas handling the same fact at once). In-app
/// items are delivered by being written, with their events in the outbox; emails wait, <c>scheduled</c>, for the
/// <see cref="Delivery.EmailDispatcher"/>.
/// </summary>
public sealed class Admission(NotificationDbContext db, TemplateCatalog templates, TimeProvider time, ILogger<Admission> logger)
{
    /// <summary>Writes the messages of each notice; returns how many were new.</summary>
    public async Task<int> AdmitAsync(IEnumerable<(Notice Notice, Addressee To)> notices, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var admitted = 0;
        foreach (var (notice, to) in notices)
        {
            var channels = templates.Channels(notice.NotificationKey).ToList();
            if (channels.Count == 0)
            {
                logger.LogError("Notification {Key} has no template; nothing was written for {SourceKey}", notice.NotificationKey, notice.SourceKey);
            }
            foreach (var channel in channels)
            {
                var rendered = templates.Render(notice.NotificationKey, channel, to.Locale, notice.Data)!;
                var item = new InboxItemView(Guid.CreateVersion7(now), notice.NotificationKey, notice.Category.Name, notice.Category.Critical,
                    rendered.Title, rendered.Text, JsonSerializer.Serialize(notice.Data), now, null);
                var (status, reason, address) = channel switch
                {
                    Channels.InApp => (MessageStatuses.Sent, (string?)null, (string?)null),
                    _ when string.IsNullOrEmpty(to.Email) => (MessageStatuses.Suppressed, "no_address", null),
                    _ => (MessageStatuses.Scheduled, null, to.Email),
                };
                if (!await InsertAsync(notice, channel, item, rendered, status, reason, address, now, cancellationToken))
                {
                    continue;
                }
                admitted++;
                if (channel == Channels.InApp)
                {
                    db.AddEvent(NotificationEvents.InAppCreatedTopic, NotificationEvents.InAppCreated(notice.Recipient, item));
                    db.AddEvent(NotificationEvents.MessageSentTopic, NotificationEvents.Sent(notice.Recipient, Channels.InApp, item.Id, item.Category, item.NotificationKey, now));
                }
            }
        }
        return admitted;
    }

    /// <summary>Inserts the message unless the fact already gave this recipient one on this channel; true when inserted.</summary>
    private async Task<bool> InsertAsync(Notice notice, string channel, InboxItemView item, RenderedMessage rendered, string status, string? reason, string? address,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recipient = notice.Recipient.ToString();
        DateTimeOffset? sentAt = status == MessageStatuses.Sent ? now : null;
        var inserted = await db.Database.SqlQuery<Guid>($"""
            INSERT INTO service_notification_message (uuid, source_key, recipient_key, recipient_user_id, channel, category, critical,
                notification_key, locale, subject, body_text, body_html, address, data, status, status_reason, due_at, sent_at,
                attempt_count, created_at, updated_at, version)
            VALUES ({item.Id}, {notice.SourceKey}, {recipient}, {notice.Recipient}, {channel}, {item.Category}, {item.Critical},
                {item.NotificationKey}, {rendered.Locale}, {item.Title}, {item.Text}, {rendered.Html}, {address}, {item.DataJson}::jsonb,
                {status}, {reason}, {now}, {sentAt}, 0, {now}, {now}, 1)
            ON CONFLICT (source_key, recipient_key, channel) DO NOTHING
            RETURNING uuid AS "Value"
            """).ToListAsync(cancellationToken);
        return inserted.Count > 0;
    }
}
