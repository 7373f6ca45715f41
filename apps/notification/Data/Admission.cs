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
public sealed class Admission(NotificationDbContext db, TemplateCatalog templates, TemplateStore stored, PreferenceStore preferences, WebhookStore webhooks, UnsubscribeLinks links,
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
        var wanted = new Dictionary<Guid, (Preferences Prefs, List<WebhookEndpointView> Endpoints)>();
        var versions = new Dictionary<string, Dictionary<(string Channel, string Locale), StoredTemplate>>(StringComparer.Ordinal);
        foreach (var (notice, to) in notices)
        {
            var channels = templates.Channels(notice.NotificationKey).Where(c => c != Channels.Sms || options.Value.SmsBinding.Length > 0).ToList();
            if (channels.Count == 0)
            {
                logger.LogError("Notification {Key} has no template; nothing was written for {SourceKey}", notice.NotificationKey, notice.SourceKey);
                continue;
            }
            if (!wanted.TryGetValue(notice.Recipient, out var recipient))
            {
                wanted[notice.Recipient] = recipient = (await preferences.GetAsync(notice.Recipient, cancellationToken), await webhooks.ListAsync(notice.Recipient, cancellationToken));
            }
            var prefs = recipient.Prefs;
            if (!versions.TryGetValue(notice.NotificationKey, out var current))
            {
                versions[notice.NotificationKey] = current = await stored.CurrentAsync(notice.NotificationKey, cancellationToken);
            }
            // A webhook carries what the in-app item shows (or the email, for a notification without one), once per endpoint.
            var textChannel = channels.Contains(Channels.InApp) ? Channels.InApp : channels[0];
            var targets = channels.Select(c => (Channel: c, Template: c, RecipientKey: notice.Recipient.ToString(), Destination: c switch
                {
                    Channels.Email => to.Email,
                    Channels.Sms => prefs.SmsNumber,
                    _ => null,
                }))
                .Concat(recipient.Endpoints.Where(e => e.Receives(notice.Category))
                    .Select(e => (Channel: Channels.Webhook, Template: textChannel, RecipientKey: $"endpoint:{e.Id}", Destination: (string?)e.Id.ToString())));
            foreach (var (channel, template, recipientKey, destination) in targets)
            {
                var id = Guid.CreateVersion7(now);
                var unsubscribeUrl = UnsubscribeUrl(notice, channel, id, now);
                var rendered = templates.Render(notice.NotificationKey, template, prefs.Locale ?? to.Locale, notice.Data, unsubscribeUrl, current)!;
                var suppressed = prefs.Suppression(notice.Category, channel);
                var channelDue = prefs.Due(notice.Category, channel, dueAt, to.TimeZone);
                // An inbox is ordered by when its items appear: a later one is dated when it is due.
                var item = new InboxItemView(id, notice.NotificationKey, notice.Category.Name, notice.Category.Critical,
                    rendered.Title, rendered.Text, JsonSerializer.Serialize(notice.Data), channel == Channels.InApp ? channelDue : now, null);
                var (status, reason, address) = channel switch
                {
                    _ when suppressed is not null => (MessageStatuses.Suppressed, suppressed, (string?)null),
                    Channels.InApp when channelDue > now => (MessageStatuses.Scheduled, (string?)null, (string?)null),
                    Channels.InApp => (MessageStatuses.Sent, null, null),
                    _ when string.IsNullOrEmpty(destination) => (MessageStatuses.Suppressed, "no_address", null),
                    _ => (MessageStatuses.Scheduled, null, destination),
                };
                long? digest = null;
                if (status == MessageStatuses.Scheduled && channel == Channels.Email && !notice.Category.Critical && notice.Digest is { } group)
                {
                    // It goes out with its digest (whose message the limits then count), when the digest closes.
                    (digest, var closes) = await JoinDigestAsync(recipientKey, channel, group, now, cancellationToken);
                    channelDue = closes > channelDue ? closes : channelDue;
                }
                else if (status == MessageStatuses.Scheduled && !notice.Category.Critical && options.Value.LimitOf(channel) is { } limit
                    && await OverLimitAsync(notice, channel, limit, now, cancellationToken))
                {
                    (status, reason, address) = (MessageStatuses.Throttled, "rate_limit", null);
                }
                if (!await InsertAsync(notice, recipientKey, channel, item, rendered with { Html = channel == Channels.Email ? rendered.Html : null }, status, reason, address,
                        channel == Channels.Email ? unsubscribeUrl : null, digest, channelDue, now, cancellationToken))
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
    /// window (throttled and suppressed ones do not count, nor those that wait in a digest: its own message does). A transaction-scoped lock per recipient and channel makes
    /// replicas and concurrent events count one after another, so the limit holds exactly.
    /// </summary>
    private async Task<bool> OverLimitAsync(Notice notice, string channel, RateLimit limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var recipient = notice.Recipient.ToString();
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"notification.limit:" + recipient + ":" + channel}, 0))", cancellationToken);
        var since = now - limit.Window;
        var recent = await db.Messages.CountAsync(m => m.RecipientKey == recipient && m.Channel == channel && m.Category == notice.Category.Name
            && m.CreatedAt > since && m.Status != MessageStatuses.Throttled && m.Status != MessageStatuses.Suppressed && m.DigestId == null, cancellationToken);
        return recent >= limit.Count;
    }

    /// <summary>
    /// The user's open digest of this key, opened now (closing a window from now) if there is none; its row stays locked
    /// to the end of the transaction, so it cannot be flushed before this message is in it. A digest flushed while this
    /// waited for the lock no longer matches, and a new one is opened.
    /// </summary>
    private async Task<(long Id, DateTimeOffset ClosesAt)> JoinDigestAsync(string recipient, string channel, DigestGroup group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        while (true)
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO service_notification_digest (uuid, recipient_key, channel, key, status, opened_at, closes_at)
                VALUES ({Guid.CreateVersion7(now)}, {recipient}, {channel}, {group.Key}, 'open', {now}, {now + group.Window})
                ON CONFLICT (recipient_key, channel, key) WHERE status = 'open' DO NOTHING
                """, cancellationToken);
            var open = await db.Digests.FromSql($"""
                SELECT * FROM service_notification_digest WHERE recipient_key = {recipient} AND channel = {channel} AND key = {group.Key} AND status = 'open' FOR UPDATE
                """).AsNoTracking().ToListAsync(cancellationToken);
            if (open.Count == 1)
            {
                return (open[0].Id, open[0].ClosesAt);
            }
        }
    }

    /// <summary>The link that turns this kind of email off (not for critical mail, nor for channels without links).</summary>
    private string? UnsubscribeUrl(Notice notice, string channel, Guid messageId, DateTimeOffset now) =>
        channel != Channels.Email || notice.Category.Critical
            ? null
            : $"{options.Value.UnsubscribeUrl}?token={links.Token(new UnsubscribeGrant(notice.Recipient, notice.Category.Name, channel, messageId, now + UnsubscribeLinks.Lifetime))}";

    /// <summary>Inserts the message unless the fact already gave this recipient one on this channel; true when inserted.</summary>
    private async Task<bool> InsertAsync(Notice notice, string recipient, string channel, InboxItemView item, RenderedMessage rendered, string status, string? reason,
        string? address, string? unsubscribeUrl, long? digest, DateTimeOffset due, DateTimeOffset now, CancellationToken cancellationToken)
    {
        DateTimeOffset? sentAt = status == MessageStatuses.Sent ? now : null;
        // One statement: the message, and the first entry of its history when it was new.
        var inserted = await db.Database.SqlQuery<Guid>($"""
            WITH message AS (
                INSERT INTO service_notification_message (uuid, source_key, recipient_key, recipient_user_id, channel, category, critical,
                    notification_key, locale, template_version, subject, body_text, body_html, address, unsubscribe_url, digest_id, data, status, status_reason, due_at, sent_at,
                    attempt_count, created_at, updated_at, version)
                VALUES ({item.Id}, {notice.SourceKey}, {recipient}, {notice.Recipient}, {channel}, {item.Category}, {item.Critical},
                    {item.NotificationKey}, {rendered.Locale}, {rendered.Version}, {item.Title}, {item.Text}, {rendered.Html}, {address}, {unsubscribeUrl}, {digest}, {item.DataJson}::jsonb,
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
