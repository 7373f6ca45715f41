using Microsoft.EntityFrameworkCore;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Data;

/// <summary>A user's in-app items: pages newest first, the unread count, read and unread marks.</summary>
public sealed class InboxStore(NotificationDbContext db, MessagePages pages, TimeProvider time)
{
    public async Task<(IReadOnlyList<InboxItemView> Items, string NextPageToken)> ListAsync(InboxFilter filter, int pageSize, string? pageToken,
        CancellationToken cancellationToken)
    {
        var query = InApp(filter.UserId);
        if (filter.UnreadOnly)
        {
            query = query.Where(m => m.ReadAt == null);
        }
        if (filter.Category.Length > 0)
        {
            query = query.Where(m => m.Category == filter.Category);
        }
        var (rows, next) = await pages.PageAsync(query, filter.Fingerprint(), pageSize, pageToken, cancellationToken);
        return (rows.Select(View).ToList(), next);
    }

    public Task<int> UnreadAsync(Guid userId, CancellationToken cancellationToken) =>
        InApp(userId).CountAsync(m => m.ReadAt == null, cancellationToken);

    /// <summary>
    /// Marks the items read (or unread); all or nothing: an id that is not an in-app item of the user is NotFound.
    /// Returns how many changed.
    /// </summary>
    public async Task<int> MarkAsync(Guid userId, IReadOnlyList<Guid> ids, bool read, CancellationToken cancellationToken)
    {
        var found = await InApp(userId).Where(m => ids.Contains(m.Uuid)).Select(m => m.Uuid).ToListAsync(cancellationToken);
        if (ids.Except(found).FirstOrDefault() is var missing && missing != Guid.Empty)
        {
            throw new NotFoundException("message", missing.ToString());
        }
        var now = time.GetUtcNow();
        var items = InApp(userId).Where(m => ids.Contains(m.Uuid));
        return read
            ? await items.Where(m => m.ReadAt == null).ExecuteUpdateAsync(m => m
                .SetProperty(x => x.ReadAt, now).SetProperty(x => x.Status, MessageStatuses.Read)
                .SetProperty(x => x.UpdatedAt, now).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken)
            : await items.Where(m => m.ReadAt != null).ExecuteUpdateAsync(m => m
                .SetProperty(x => x.ReadAt, (DateTimeOffset?)null).SetProperty(x => x.Status, MessageStatuses.Sent)
                .SetProperty(x => x.UpdatedAt, now).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
    }

    /// <summary>Marks every unread item created before <paramref name="before"/> read; returns how many changed.</summary>
    public Task<int> MarkAllReadAsync(Guid userId, DateTimeOffset before, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return InApp(userId).Where(m => m.ReadAt == null && m.CreatedAt < before).ExecuteUpdateAsync(m => m
            .SetProperty(x => x.ReadAt, now).SetProperty(x => x.Status, MessageStatuses.Read)
            .SetProperty(x => x.UpdatedAt, now).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
    }

    private IQueryable<MessageRecord> InApp(Guid userId) =>
        db.Messages.AsNoTracking().Where(m => m.RecipientUserId == userId && m.Channel == Channels.InApp
            && m.Status != MessageStatuses.Scheduled && m.Status != MessageStatuses.Suppressed && m.Status != MessageStatuses.Canceled);

    private static InboxItemView View(MessageRecord m) =>
        new(m.Uuid, m.NotificationKey, m.Category, m.Critical, m.Subject, m.BodyText, m.Data, m.CreatedAt, m.ReadAt);
}
