using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Ovasabi.Notification.Delivery;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.Events;

namespace Ovasabi.Notification.Data;

/// <summary>Who a notice goes to, as the user's profile says: the language to render in, the email address, the time zone.</summary>
public sealed record Addressee(string? Locale, string? Email, string? TimeZone);

/// <summary>
/// Turns notices into messages inside the caller's transaction (an event's inbox transaction): one per channel the
/// notification has a template for, each rendered once in its recipient's language, written at most once per fact,
/// recipient and channel (a unique index decides, also between two replicas handling the same fact at once). The
/// recipient's preferences decide: what they turned off is written <c>suppressed</c> with the reason (kept, never
/// dropped), non-critical email waits out their quiet hours and carries an unsubscribe link. In-app items due now are
/// delivered by being written, with their events in the outbox; emails, and items due later, wait <c>scheduled</c> for
/// the <see cref="Delivery.Dispatcher"/>.
/// </summary>
public sealed class Admission(NotificationDbContext db, TemplateCatalog templates, PreferenceStore preferences, UnsubscribeLinks links,
    IOptions<NotificationOptions> options, DeliverySignal signal, WakeScheduler wakes, TimeProvider time, ILogger<Admission> logger)
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
        var wanted = new Dictionary<Guid, Preferences>();
        foreach (var (notice, to) in notices)
        {
            var channels = templates.Channels(notice.NotificationKey).Where(c => c != Channels.Sms || options.Value.SmsBinding.Length > 0).ToList();
            if (channels.Count == 0)
            {
                logger.LogError("Notification {Key} has no template; nothing was written for {SourceKey}", notice.NotificationKey, notice.SourceKey);
            }
            if (!wanted.TryGetValue(notice.Recipient, out var prefs))
            {
                wanted[notice.Recipient] = prefs = await preferences.GetAsync(notice.Recipient, cancellationToken);
            }
            foreach (var channel in channels)
            {
                var id = Guid.CreateVersion7(now);
                var rendered = templates.Render(notice.NotificationKey, channel, prefs.Locale ?? to.Locale, notice.Data, UnsubscribeUrl(notice, channel, id, now))!;
                var suppressed = prefs.Suppression(notice.Category, channel);
                var channelDue = prefs.Due(notice.Category, channel, dueAt, to.TimeZone);
                // An inbox is ordered by when its items appear: a later one is dated when it is due.
                var item = new InboxItemView(id, notice.NotificationKey, notice.Category.Name, notice.Category.Critical,
                    rendered.Title, rendered.Text, JsonSerializer.Serialize(notice.Data), channel == Channels.InApp ? channelDue : now, null);
                var destination = channel switch { Channels.Email => to.Email, Channels.Sms => prefs.SmsNumber, _ => null };
                var (status, reason, address) = channel switch
                {
                    _ when suppressed is not null => (MessageStatuses.Suppressed, suppressed, (string?)null),
                    Channels.InApp when channelDue > now => (MessageStatuses.Scheduled, (string?)null, (string?)null),
                    Channels.InApp => (MessageStatuses.Sent, null, null),
                    _ when string.IsNullOrEmpty(destination) => (MessageStatuses.Suppressed, "no_address", null),
                    _ => (MessageStatuses.Scheduled, null, destination),
                };
                if (status == MessageStatuses.Scheduled && !notice.Category.Critical && options.Value.LimitOf(channel) is { } limit
                    && await OverLimitAsync(notice, channel, limit, now, cancellationToken))
                {
                    (status, reason, address) = (MessageStatuses.Throttled, "rate_limit", null);
                }
                if (!await InsertAsync(notice, channel, item, rendered, status, reason, address, channelDue, now, cancellationToken))
                {
                    continue;
                }
                admitted.Add(new MessageView(item.Id, notice.Recipient, channel, status, channelDue, reason));
                if (status == MessageStatuses.Sent)
                {
                    db.AddEvent(NotificationEvents.InAppCreatedTopic, NotificationEvents.InAppCreated(notice.Recipient, item));
                    db.AddEvent(NotificationEvents.MessageSentTopic, NotificationEvents.Sent(notice.Recipient, Channels.InApp, item.Id, item.Category, item.NotificationKey, now));
                }
            }
        }
        // Once committed: now-due messages go at once; later ones get a wake-up job each.
        var scheduled = admitted.Where(m => m.Status == MessageStatuses.Scheduled).Select(m => m.DueAt).Distinct().ToList();
        if (scheduled.Count > 0)
        {
            db.AfterCommit(() =>
            {
                foreach (var at in scheduled)
                {
                    if (at > now)
                    {
                        wakes.Request(at);
                    }
                    else
                    {
                        signal.Notify();
                    }
                }
            });
        }
        return admitted;
    }

    /// <summary>
    /// Whether the recipient already has the limit's count of messages of this category on this channel written in the
    /// window (throttled and suppressed ones do not count). A transaction-scoped lock per recipient and channel makes
    /// replicas and concurrent events count one after another, so the limit holds exactly.
    /// </summary>
    private async Task<bool> OverLimitAsync(Notice notice, string channel, RateLimit limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recipient = notice.Recipient.ToString();
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"notification.limit:" + recipient + ":" + channel}, 0))", cancellationToken);
        var since = now - limit.Window;
        var recent = await db.Messages.CountAsync(m => m.RecipientKey == recipient && m.Channel == channel && m.Category == notice.Category.Name
            && m.CreatedAt > since && m.Status != MessageStatuses.Throttled && m.Status != MessageStatuses.Suppressed, cancellationToken);
        return recent >= limit.Count;
    }

    /// <summary>The link that turns this kind of email off (not for critical mail, nor for channels without links).</summary>
    private string? UnsubscribeUrl(Notice notice, string channel, Guid messageId, DateTimeOffset now) =>
        channel != Channels.Email || notice.Category.Critical
            ? null
            : $"{options.Value.UnsubscribeUrl}?token={links.Token(new UnsubscribeGrant(notice.Recipient, notice.Category.Name, channel, messageId, now + UnsubscribeLinks.Lifetime))}";

    /// <summary>Inserts the message unless the fact already gave this recipient one on this channel; true when inserted.</summary>
    private async Task<bool> InsertAsync(Notice notice, string channel, InboxItemView item, RenderedMessage rendered, string status, string? reason, string? address,
        DateTimeOffset due, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recipient = notice.Recipient.ToString();
        DateTimeOffset? sentAt = status == MessageStatuses.Sent ? now : null;
        // One statement: the message, and the first entry of its history when it was new.
        var inserted = await db.Database.SqlQuery<Guid>($"""
            WITH message AS (
                INSERT INTO service_notification_message (uuid, source_key, recipient_key, recipient_user_id, channel, category, critical,
                    notification_key, locale, subject, body_text, body_html, address, data, status, status_reason, due_at, sent_at,
                    attempt_count, created_at, updated_at, version)
                VALUES ({item.Id}, {notice.SourceKey}, {recipient}, {notice.Recipient}, {channel}, {item.Category}, {item.Critical},
                    {item.NotificationKey}, {rendered.Locale}, {item.Title}, {item.Text}, {rendered.Html}, {address}, {item.DataJson}::jsonb,
                    {status}, {reason}, {due}, {sentAt}, 0, {item.CreatedAt}, {now}, 1)
                ON CONFLICT (source_key, recipient_key, channel) DO NOTHING
                RETURNING id, uuid),
            history AS (
                INSERT INTO service_notification_message_history (message_id, status, reason, actor, at)
                SELECT id, {status}, {reason}, {HistoryActors.Admission}, {now} FROM message)
            SELECT uuid AS "Value" FROM message
            """).ToListAsync(cancellationToken);
        return inserted.Count > 0;
    }
}
