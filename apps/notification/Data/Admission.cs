using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Notification.Delivery;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.Events;

namespace Ovasabi.Notification.Data;

/// <summary>Who a notice goes to, as the channels need it: the language to render in, and the email address.</summary>
public sealed record Addressee(string? Locale, string? Email);

/// <summary>
/// Turns notices into messages inside the caller's transaction (an event's inbox transaction): one per channel the
/// notification has a template for, each rendered once in its recipient's language, written at most once per fact,
/// recipient and channel (a unique index decides, also between two replicas handling the same fact at once). In-app
/// items due now are delivered by being written, with their events in the outbox; emails, and items due later, wait
/// <c>scheduled</c> for the <see cref="Delivery.Dispatcher"/>.
/// </summary>
public sealed class Admission(NotificationDbContext db, TemplateCatalog templates, DeliverySignal signal, WakeScheduler wakes, TimeProvider time,
    ILogger<Admission> logger)
{
    /// <summary>
    /// Writes the messages of each notice, due at <paramref name="due"/> (now when null: in-app items are delivered at
    /// once); returns the messages that were new.
    /// </summary>
    public async Task<List<MessageView>> AdmitAsync(IEnumerable<(Notice Notice, Addressee To)> notices, CancellationToken cancellationToken, DateTimeOffset? due = null)
    {
        var now = time.GetUtcNow();
        var dueAt = due is { } later && later > now ? later : now;
        var admitted = new List<MessageView>();
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
                // An inbox is ordered by when its items appear: a later one is dated when it is due.
                var item = new InboxItemView(Guid.CreateVersion7(now), notice.NotificationKey, notice.Category.Name, notice.Category.Critical,
                    rendered.Title, rendered.Text, JsonSerializer.Serialize(notice.Data), channel == Channels.InApp ? dueAt : now, null);
                var (status, reason, address) = channel switch
                {
                    Channels.InApp when dueAt > now => (MessageStatuses.Scheduled, (string?)null, (string?)null),
                    Channels.InApp => (MessageStatuses.Sent, null, null),
                    _ when string.IsNullOrEmpty(to.Email) => (MessageStatuses.Suppressed, "no_address", null),
                    _ => (MessageStatuses.Scheduled, null, to.Email),
                };
                if (!await InsertAsync(notice, channel, item, rendered, status, reason, address, dueAt, now, cancellationToken))
                {
                    continue;
                }
                admitted.Add(new MessageView(item.Id, notice.Recipient, channel, status, dueAt));
                if (status == MessageStatuses.Sent)
                {
                    db.AddEvent(NotificationEvents.InAppCreatedTopic, NotificationEvents.InAppCreated(notice.Recipient, item));
                    db.AddEvent(NotificationEvents.MessageSentTopic, NotificationEvents.Sent(notice.Recipient, Channels.InApp, item.Id, item.Category, item.NotificationKey, now));
                }
            }
        }
        if (admitted.Any(m => m.Status == MessageStatuses.Scheduled))
        {
            // Once committed: now-due messages go at once; later ones get a wake-up job.
            db.AfterCommit(dueAt > now ? () => wakes.Request(dueAt) : signal.Notify);
        }
        return admitted;
    }

    /// <summary>Inserts the message unless the fact already gave this recipient one on this channel; true when inserted.</summary>
    private async Task<bool> InsertAsync(Notice notice, string channel, InboxItemView item, RenderedMessage rendered, string status, string? reason, string? address,
        DateTimeOffset due, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recipient = notice.Recipient.ToString();
        DateTimeOffset? sentAt = status == MessageStatuses.Sent ? now : null;
        var inserted = await db.Database.SqlQuery<Guid>($"""
            INSERT INTO service_notification_message (uuid, source_key, recipient_key, recipient_user_id, channel, category, critical,
                notification_key, locale, subject, body_text, body_html, address, data, status, status_reason, due_at, sent_at,
                attempt_count, created_at, updated_at, version)
            VALUES ({item.Id}, {notice.SourceKey}, {recipient}, {notice.Recipient}, {channel}, {item.Category}, {item.Critical},
                {item.NotificationKey}, {rendered.Locale}, {item.Title}, {item.Text}, {rendered.Html}, {address}, {item.DataJson}::jsonb,
                {status}, {reason}, {due}, {sentAt}, 0, {item.CreatedAt}, {now}, 1)
            ON CONFLICT (source_key, recipient_key, channel) DO NOTHING
            RETURNING uuid AS "Value"
            """).ToListAsync(cancellationToken);
        return inserted.Count > 0;
    }
}
