using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.Events;

namespace Ovasabi.Notification.Data;

/// <summary>
/// Turns notices into messages inside the caller's transaction (an event's inbox transaction): each rendered once in
/// its recipient's language, written at most once per fact, recipient and channel (a unique index decides, also
/// between two replicas handling the same fact at once), with its events in the outbox.
/// </summary>
public sealed class Admission(NotificationDbContext db, TemplateCatalog templates, TimeProvider time, ILogger<Admission> logger)
{
    /// <summary>Writes the in-app item of each notice; returns how many were new.</summary>
    public async Task<int> AdmitInAppAsync(IEnumerable<(Notice Notice, string? Locale)> notices, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var admitted = 0;
        foreach (var (notice, locale) in notices)
        {
            if (templates.Render(notice.NotificationKey, Channels.InApp, locale, notice.Data) is not { } rendered)
            {
                logger.LogError("Notification {Key} has no in-app template; nothing was written for {SourceKey}", notice.NotificationKey, notice.SourceKey);
                continue;
            }
            var item = new InboxItemView(Guid.CreateVersion7(now), notice.NotificationKey, notice.Category.Name, notice.Category.Critical,
                rendered.Title, rendered.Text, JsonSerializer.Serialize(notice.Data), now, null);
            var recipient = notice.Recipient.ToString();
            var inserted = await db.Database.SqlQuery<Guid>($"""
                INSERT INTO service_notification_message (uuid, source_key, recipient_key, recipient_user_id, channel, category, critical,
                    notification_key, locale, subject, body_text, data, status, due_at, sent_at, created_at, updated_at, version)
                VALUES ({item.Id}, {notice.SourceKey}, {recipient}, {notice.Recipient}, {Channels.InApp}, {item.Category}, {item.Critical},
                    {item.NotificationKey}, {rendered.Locale}, {item.Title}, {item.Text}, {item.DataJson}::jsonb, {MessageStatuses.Sent}, {now}, {now}, {now}, {now}, 1)
                ON CONFLICT (source_key, recipient_key, channel) DO NOTHING
                RETURNING uuid AS "Value"
                """).ToListAsync(cancellationToken);
            if (inserted.Count == 0)
            {
                continue;
            }
            db.AddEvent(NotificationEvents.InAppCreatedTopic, NotificationEvents.InAppCreated(notice.Recipient, item));
            db.AddEvent(NotificationEvents.MessageSentTopic, NotificationEvents.InAppSent(notice.Recipient, item));
            admitted++;
        }
        return admitted;
    }
}
