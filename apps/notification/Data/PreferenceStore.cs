using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Data;

/// <summary>Users' preferences: read at admission, changed by the user (with optimistic concurrency) or by an unsubscribe link.</summary>
public sealed class PreferenceStore(NotificationDbContext db, TimeProvider time)
{
    public async Task<Preferences> GetAsync(Guid userId, CancellationToken cancellationToken)
    {
        var record = await db.Preferences.AsNoTracking().FirstOrDefaultAsync(p => p.UserId == userId, cancellationToken);
        return record is null ? Preferences.None : ToDomain(record);
    }

    /// <summary>Applies the user's change to the version they read; returns the stored result.</summary>
    /// <exception cref="VersionConflictException">the preferences changed since <paramref name="expectedVersion"/></exception>
    public async Task<Preferences> UpdateAsync(Guid userId, long expectedVersion, PreferenceChange change, CancellationToken cancellationToken)
    {
        var record = await db.Preferences.FirstOrDefaultAsync(p => p.UserId == userId, cancellationToken);
        var current = record is null ? Preferences.None : ToDomain(record);
        if (current.Version != expectedVersion)
        {
            throw new VersionConflictException("the preferences", expectedVersion, current.Version);
        }
        var stored = Save(userId, record, current.With(change));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e is DbUpdateConcurrencyException || e.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // Another change was stored between the read and the write.
            throw new VersionConflictException("the preferences", expectedVersion, expectedVersion + 1);
        }
        return stored;
    }

    /// <summary>Turns off what the link grants and records the link as used, in one transaction.</summary>
    /// <exception cref="FailedPreconditionException">the link was used before (UNSUBSCRIBE_LINK_USED)</exception>
    public async Task UnsubscribeAsync(UnsubscribeGrant grant, byte[] tokenHash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var first = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO service_notification_unsubscribe_use (token_hash, user_id, category, channel, used_at)
            VALUES ({tokenHash}, {grant.UserId}, {grant.Category}, {grant.Channel}, {now}) ON CONFLICT DO NOTHING
            """, cancellationToken);
        if (first == 0)
        {
            throw new FailedPreconditionException("this unsubscribe link was used already", "UNSUBSCRIBE_LINK_USED");
        }
        var record = await db.Preferences.FromSql($"SELECT * FROM service_notification_preference WHERE user_id = {grant.UserId} FOR UPDATE")
            .FirstOrDefaultAsync(cancellationToken);
        var current = record is null ? Preferences.None : ToDomain(record);
        Save(grant.UserId, record, current.With(
            new PreferenceChange(null, false, null, null, null, [new PreferenceRule(grant.Category, grant.Channel, false, PreferenceSources.Unsubscribe)])));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Writes <paramref name="next"/> over the row (a new one at version 1); returns it with its new version.</summary>
    private Preferences Save(Guid userId, PreferenceRecord? record, Preferences next)
    {
        if (record is null)
        {
            record = new PreferenceRecord { UserId = userId };
            db.Preferences.Add(record);
        }
        record.GlobalMute = next.GlobalMute;
        record.QuietStart = next.QuietHours?.Start.ToTimeOnly();
        record.QuietEnd = next.QuietHours?.End.ToTimeOnly();
        record.TimeZone = next.TimeZone;
        record.Locale = next.Locale;
        record.SmsNumber = next.SmsNumber;
        record.Rules = JsonSerializer.Serialize(next.Rules);
        record.Version++;
        record.UpdatedAt = time.GetUtcNow();
        return next with { Version = record.Version };
    }

    private static Preferences ToDomain(PreferenceRecord record) => new(
        record.GlobalMute,
        record is { QuietStart: { } start, QuietEnd: { } end } ? new QuietHours(LocalTime.FromTimeOnly(start), LocalTime.FromTimeOnly(end)) : null,
        record.TimeZone,
        record.Locale,
        JsonSerializer.Deserialize<List<PreferenceRule>>(record.Rules) ?? [],
        record.Version)
    {
        SmsNumber = record.SmsNumber,
    };
}
