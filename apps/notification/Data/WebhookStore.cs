using Microsoft.EntityFrameworkCore;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Data;

/// <summary>What signing a delivery to an endpoint takes: where it goes and the keys that sign it now.</summary>
public sealed record WebhookTarget(string Binding, string Path, IReadOnlyList<byte[]> Keys);

/// <summary>Users' webhook endpoints: registered, rotated and removed by administrators, read at admission and at each send.</summary>
public sealed class WebhookStore(NotificationDbContext db, SecretBox secrets, TimeProvider time)
{
    /// <summary>Registers an endpoint with a new secret; returns it with the secret (the only time it is shown).</summary>
    /// <exception cref="FailedPreconditionException">the user has <see cref="WebhookRules.MaxEndpointsPerUser"/> already</exception>
    public async Task<(WebhookEndpointView Endpoint, string Secret)> CreateAsync(Guid userId, string binding, string path, List<string> categories,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Two registrations at once must not both pass the count.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"notification.webhooks:" + userId}, 0))", cancellationToken);
        if (await db.WebhookEndpoints.CountAsync(e => e.UserId == userId, cancellationToken) >= WebhookRules.MaxEndpointsPerUser)
        {
            throw new FailedPreconditionException($"the user has {WebhookRules.MaxEndpointsPerUser} webhook endpoints, the most allowed", "WEBHOOK_ENDPOINT_LIMIT");
        }
        var key = WebhookSignatures.NewKey();
        var record = new WebhookEndpointRecord
        {
            Uuid = Guid.CreateVersion7(time.GetUtcNow()), UserId = userId, Binding = binding, Path = path, Categories = categories,
            Secret = secrets.Seal(key), CreatedAt = time.GetUtcNow(),
        };
        db.WebhookEndpoints.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (ToView(record), WebhookSignatures.Secret(key));
    }

    /// <summary>The user's endpoints, oldest first.</summary>
    public async Task<List<WebhookEndpointView>> ListAsync(Guid userId, CancellationToken cancellationToken) =>
        (await db.WebhookEndpoints.AsNoTracking().Where(e => e.UserId == userId).OrderBy(e => e.CreatedAt).ThenBy(e => e.Id).ToListAsync(cancellationToken))
        .Select(ToView).ToList();

    /// <summary>Gives the endpoint a new secret; the old one keeps signing for <see cref="WebhookRules.RotationOverlap"/>.</summary>
    /// <exception cref="NotFoundException">the user has no such endpoint</exception>
    public async Task<(WebhookEndpointView Endpoint, string Secret)> RotateAsync(Guid userId, Guid endpointId, CancellationToken cancellationToken)
    {
        var record = await FindAsync(userId, endpointId, cancellationToken);
        var key = WebhookSignatures.NewKey();
        record.PreviousSecret = record.Secret;
        record.PreviousSecretValidUntil = time.GetUtcNow() + WebhookRules.RotationOverlap;
        record.Secret = secrets.Seal(key);
        record.Version++;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // A rotation at the same moment won: its secret is the one that holds, and this one was never in use.
            throw new FailedPreconditionException("the endpoint's secret was rotated at the same time; rotate again", "VERSION_CONFLICT");
        }
        return (ToView(record), WebhookSignatures.Secret(key));
    }

    /// <exception cref="NotFoundException">the user has no such endpoint</exception>
    public async Task DeleteAsync(Guid userId, Guid endpointId, CancellationToken cancellationToken)
    {
        if (await db.WebhookEndpoints.Where(e => e.UserId == userId && e.Uuid == endpointId).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            throw new NotFoundException("webhook_endpoint", endpointId.ToString());
        }
    }

    /// <summary>Where a message for <paramref name="endpointId"/> goes and the keys that sign it now; null when the endpoint was removed.</summary>
    public async Task<WebhookTarget?> TargetAsync(Guid endpointId, CancellationToken cancellationToken)
    {
        var record = await db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Uuid == endpointId, cancellationToken);
        if (record is null)
        {
            return null;
        }
        List<byte[]> keys = [secrets.Open(record.Secret)];
        if (record.PreviousSecret is { } previous && record.PreviousSecretValidUntil > time.GetUtcNow())
        {
            keys.Add(secrets.Open(previous));
        }
        return new WebhookTarget(record.Binding, record.Path, keys);
    }

    private async Task<WebhookEndpointRecord> FindAsync(Guid userId, Guid endpointId, CancellationToken cancellationToken) =>
        await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.UserId == userId && e.Uuid == endpointId, cancellationToken)
        ?? throw new NotFoundException("webhook_endpoint", endpointId.ToString());

    private WebhookEndpointView ToView(WebhookEndpointRecord e) =>
        new(e.Uuid, e.UserId, e.Binding, e.Path, e.Categories, e.CreatedAt, e.PreviousSecretValidUntil > time.GetUtcNow() ? e.PreviousSecretValidUntil : null);
}
