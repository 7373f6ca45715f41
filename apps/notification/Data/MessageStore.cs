using Microsoft.EntityFrameworkCore;
using Ovasabi.Notification.Delivery;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Data;

/// <summary>What a list of a user's messages asks for (empty sets: any).</summary>
public sealed record MessageFilter(Guid UserId, IReadOnlySet<string> Statuses, IReadOnlySet<string> Channels, string Category)
{
    /// <summary>The values a page token is bound to.</summary>
    public string[] Fingerprint() =>
        [UserId.ToString(), string.Join(',', Statuses.Order(StringComparer.Ordinal)), string.Join(',', Channels.Order(StringComparer.Ordinal)), Category];
}

/// <summary>Messages as delivery records: one with its history, a user's list, the failures of everyone, and a resend.</summary>
public sealed class MessageStore(NotificationDbContext db, MessagePages pages, DeliverySignal signal, TimeProvider time)
{
    /// <summary>The user's message with its history, oldest first; null when there is no such message of that user.</summary>
    public async Task<(MessageRecord Message, List<MessageHistoryRecord> History)?> GetAsync(Guid userId, Guid messageId, CancellationToken cancellationToken)
    {
        var message = await db.Messages.AsNoTracking().FirstOrDefaultAsync(m => m.Uuid == messageId && m.RecipientUserId == userId, cancellationToken);
        return message is null ? null : (message, await HistoryAsync(message.Id, cancellationToken));
    }

    public Task<(List<MessageRecord> Rows, string NextPageToken)> ListAsync(MessageFilter filter, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var query = db.Messages.AsNoTracking().Where(m => m.RecipientUserId == filter.UserId);
        if (filter.Statuses.Count > 0)
        {
            query = query.Where(m => filter.Statuses.Contains(m.Status));
        }
        if (filter.Channels.Count > 0)
        {
            query = query.Where(m => filter.Channels.Contains(m.Channel));
        }
        if (filter.Category.Length > 0)
        {
            query = query.Where(m => m.Category == filter.Category);
        }
        return pages.PageAsync(query, filter.Fingerprint(), pageSize, pageToken, cancellationToken);
    }

    public Task<(List<MessageRecord> Rows, string NextPageToken)> ListFailedAsync(int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        pages.PageAsync(db.Messages.AsNoTracking().Where(m => m.Status == MessageStatuses.Failed), ["failed"], pageSize, pageToken, cancellationToken);

    /// <summary>Schedules a failed email again, now, with its attempts counted afresh; returns it with its history.</summary>
    /// <exception cref="NotFoundException">no such message</exception>
    /// <exception cref="FailedPreconditionException">it is not a failed email (MESSAGE_NOT_RESENDABLE)</exception>
    public Task<(MessageRecord Message, List<MessageHistoryRecord> History)> ResendAsync(Guid messageId, string actor, CancellationToken cancellationToken) =>
        ChangeAsync(messageId, actor, m => m.Channel == Domain.Channels.Email && m.Status == MessageStatuses.Failed, "only a failed email can be sent again", "MESSAGE_NOT_RESENDABLE",
            (m, now) =>
            {
                (m.Status, m.StatusReason, m.DueAt, m.AttemptCount) = (MessageStatuses.Scheduled, "resent", now, 0);
                db.AfterCommit(signal.Notify);
            }, cancellationToken);

    /// <summary>Cancels a message still waiting to go out; returns it with its history.</summary>
    /// <exception cref="NotFoundException">no such message</exception>
    /// <exception cref="FailedPreconditionException">it is not scheduled (MESSAGE_NOT_CANCELABLE)</exception>
    public Task<(MessageRecord Message, List<MessageHistoryRecord> History)> CancelAsync(Guid messageId, string actor, CancellationToken cancellationToken) =>
        ChangeAsync(messageId, actor, m => m.Status == MessageStatuses.Scheduled, "only a message still waiting to go out can be canceled", "MESSAGE_NOT_CANCELABLE",
            (m, _) => (m.Status, m.StatusReason) = (MessageStatuses.Canceled, "canceled"), cancellationToken);

    /// <summary>Locks the message, checks it may change, changes it and appends the change to its history, in one transaction.</summary>
    private async Task<(MessageRecord Message, List<MessageHistoryRecord> History)> ChangeAsync(Guid messageId, string actor, Func<MessageRecord, bool> allowed,
        string refusal, string reason, Action<MessageRecord, DateTimeOffset> change, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var message = await db.Messages.FromSql($"SELECT * FROM service_notification_message WHERE uuid = {messageId} FOR UPDATE").FirstOrDefaultAsync(cancellationToken)
                      ?? throw new NotFoundException("message", messageId.ToString());
        if (!allowed(message))
        {
            throw new FailedPreconditionException($"{refusal}; this {message.Channel} message is {message.Status}", reason);
        }
        var now = time.GetUtcNow();
        change(message, now);
        message.UpdatedAt = now;
        message.Version++;
        db.History.Add(new MessageHistoryRecord { MessageId = message.Id, Status = message.Status, Reason = message.StatusReason, Actor = actor, At = now });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (message, await HistoryAsync(message.Id, cancellationToken));
    }

    private Task<List<MessageHistoryRecord>> HistoryAsync(long messageId, CancellationToken cancellationToken) =>
        db.History.AsNoTracking().Where(h => h.MessageId == messageId).OrderBy(h => h.Id).ToListAsync(cancellationToken);
}
