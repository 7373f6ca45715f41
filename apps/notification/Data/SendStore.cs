using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Data;

/// <summary>
/// Send: the messages and the record of the call in one transaction, so a retry with the idempotency key answers the
/// first result and writes nothing; two first calls at once meet at the record's unique key, and the later replays.
/// </summary>
public sealed class SendStore(NotificationDbContext db, Admission admission, TimeProvider time)
{
    /// <summary>The messages written (or, replayed, those of the first call with this key).</summary>
    public async Task<(IReadOnlyList<MessageView> Messages, bool Replayed)> SendAsync(RequestEnvelope request, IReadOnlyList<(Notice Notice, Addressee To)> notices,
        DateTimeOffset due, CancellationToken cancellationToken)
    {
        if (await EarlierAsync(request, cancellationToken) is { } earlier)
        {
            return (earlier, true);
        }
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var messages = await admission.AdmitAsync(notices, cancellationToken, due);
            db.SendRequests.Add(new SendRequestRecord
            {
                Caller = request.Actor,
                IdempotencyKey = request.IdempotencyKey,
                Fingerprint = request.Fingerprint,
                Response = JsonSerializer.Serialize(messages),
                CreatedAt = time.GetUtcNow(),
            });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (messages, false);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return (await EarlierAsync(request, cancellationToken) ?? throw new UnavailableException("a concurrent Send with this idempotency key did not commit; retry"), true);
        }
    }

    private async Task<List<MessageView>?> EarlierAsync(RequestEnvelope request, CancellationToken cancellationToken)
    {
        var earlier = await db.SendRequests.AsNoTracking()
            .Where(r => r.Caller == request.Actor && r.IdempotencyKey == request.IdempotencyKey)
            .Select(r => new { r.Fingerprint, r.Response })
            .FirstOrDefaultAsync(cancellationToken);
        if (earlier is null)
        {
            return null;
        }
        Idempotency.EnsureSameRequest(earlier.Fingerprint, request.Fingerprint, request.IdempotencyKey);
        return JsonSerializer.Deserialize<List<MessageView>>(earlier.Response)!;
    }
}
