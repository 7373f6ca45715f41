using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Data;

/// <summary>
/// Pages of messages newest first, keyed by (created_at, uuid) so a page never repeats or skips a row as new ones
/// arrive, with signed page tokens bound to the filter that made them.
/// </summary>
public sealed class MessagePages(byte[] pageTokenKey)
{
    private const string Order = "create_time desc";

    public async Task<(List<MessageRecord> Rows, string NextPageToken)> PageAsync(IQueryable<MessageRecord> query, string[] filter, int pageSize, string? pageToken,
        CancellationToken cancellationToken)
    {
        var fingerprint = PageToken.Fingerprint(filter);
        if (!string.IsNullOrEmpty(pageToken))
        {
            var cursor = PageToken.Decode(pageToken, pageTokenKey, Order, fingerprint)
                         ?? throw new InvalidArgumentException("page.page_token", "is invalid, or belongs to another filter");
            var (at, id) = (DateTimeOffset.ParseExact(cursor.LastSortValue, "O", CultureInfo.InvariantCulture), cursor.LastId);
            query = query.Where(m => EF.Functions.LessThan(ValueTuple.Create(m.CreatedAt, m.Uuid), ValueTuple.Create(at, id)));
        }
        var rows = await query.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Uuid).Take(pageSize + 1).ToListAsync(cancellationToken);
        if (rows.Count <= pageSize)
        {
            return (rows, "");
        }
        var last = rows[pageSize - 1];
        return (rows[..pageSize], PageToken.Encode(new PageCursor(Order, last.CreatedAt.ToString("O", CultureInfo.InvariantCulture), last.Uuid, fingerprint), pageTokenKey));
    }
}
