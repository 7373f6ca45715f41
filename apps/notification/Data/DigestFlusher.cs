using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Ovasabi.Notification.Domain;

namespace Ovasabi.Notification.Data;

/// <summary>
/// Closes digests whose window ended: two or more waiting emails become one message (<c>digest.default</c>, the
/// items listed) and are marked <c>digested</c>, naming it; a lone one leaves the digest and goes out as itself.
/// Replicas share the work (<c>FOR UPDATE SKIP LOCKED</c>), and an email joining a digest holds its row, so none is
/// left behind.
/// </summary>
public sealed class DigestFlusher(NotificationDbContext db, TemplateCatalog templates, TemplateStore stored, UnsubscribeLinks links, IOptions<NotificationOptions> options,
    TimeProvider time)
{
    public const string TemplateKey = "digest.default";

    /// <summary>How many items a digest lists; the rest are counted.</summary>
    public const int MaxListed = 50;

    /// <summary>Flushes the digests due now; returns how many messages that made ready to send.</summary>
    public async Task<int> FlushDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var due = await db.Digests.FromSql($"""
            SELECT * FROM service_notification_digest WHERE status = 'open' AND closes_at <= {now}
            ORDER BY closes_at LIMIT 20 FOR UPDATE SKIP LOCKED
            """).ToListAsync(cancellationToken);
        var ready = 0;
        foreach (var digest in due)
        {
            digest.Status = "flushed";
            var items = await db.Messages.Where(m => m.DigestId == digest.Id && m.Status == MessageStatuses.Scheduled).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id)
                .ToListAsync(cancellationToken);
            if (items.Count == 1)
            {
                items[0].DigestId = null;
                ready++;
            }
            else if (items.Count > 1)
            {
                digest.ResultMessageId = (await GatherAsync(digest, items, now, cancellationToken)).Id;
                ready++;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ready;
    }

    /// <summary>The one message that carries <paramref name="items"/>; each item is marked digested into it.</summary>
    private async Task<MessageRecord> GatherAsync(DigestRecord digest, List<MessageRecord> items, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var last = items[^1];
        var uuid = Guid.CreateVersion7(now);
        var user = last.RecipientUserId ?? Guid.Empty;
        var data = new Dictionary<string, object?>
        {
            ["count"] = items.Count,
            ["items"] = items.Take(MaxListed).Select(i => new Dictionary<string, object?> { ["title"] = i.Subject, ["text"] = i.BodyText, ["notification_key"] = i.NotificationKey }).ToList(),
            ["more_count"] = Math.Max(0, items.Count - MaxListed),
        };
        var unsubscribe = $"{options.Value.UnsubscribeUrl}?token={links.Token(new UnsubscribeGrant(user, last.Category, Channels.Email, uuid, now + UnsubscribeLinks.Lifetime))}";
        var rendered = templates.Render(TemplateKey, Channels.Email, last.Locale, data, unsubscribe, await stored.CurrentAsync(TemplateKey, cancellationToken))!;
        var message = new MessageRecord
        {
            Uuid = uuid, SourceKey = $"digest:{digest.Uuid}", RecipientKey = digest.RecipientKey, RecipientUserId = last.RecipientUserId, Channel = Channels.Email,
            Category = last.Category, Critical = false, NotificationKey = TemplateKey, Locale = rendered.Locale, TemplateVersion = rendered.Version,
            Subject = rendered.Title, BodyText = rendered.Text, BodyHtml = rendered.Html, Address = last.Address, UnsubscribeUrl = unsubscribe,
            Data = JsonSerializer.Serialize(data), Status = MessageStatuses.Scheduled, DueAt = items.Max(i => i.DueAt) > now ? items.Max(i => i.DueAt) : now,
            CreatedAt = now, UpdatedAt = now,
        };
        db.Messages.Add(message);
        await db.SaveChangesAsync(cancellationToken);
        db.History.Add(new MessageHistoryRecord { MessageId = message.Id, Status = MessageStatuses.Scheduled, Reason = $"digest of {items.Count}", Actor = HistoryActors.Dispatcher, At = now });
        foreach (var item in items)
        {
            item.Status = MessageStatuses.Digested;
            item.StatusReason = $"digest:{uuid}";
            item.UpdatedAt = now;
            item.Version++;
            db.History.Add(new MessageHistoryRecord { MessageId = item.Id, Status = MessageStatuses.Digested, Reason = item.StatusReason, Actor = HistoryActors.Dispatcher, At = now });
        }
        return message;
    }
}
