using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.Notification.Data;

/// <summary>The key that hashes sign-in addresses (<c>Notification:AddressKey</c>).</summary>
public sealed record AddressKey(byte[] Value)
{
    public static AddressKey From(IConfiguration configuration) => new(ServiceKeys.From(configuration, "Notification:AddressKey", "ovasabi.notification.address-key"));
}

/// <summary>The addresses each user signed in from, to tell a sign-in from a new one (inside the event's transaction).</summary>
public sealed class KnownAddresses(NotificationDbContext db, AddressKey key, TimeProvider time)
{
    /// <summary>Remembers the address; answers whether the user had any before, and this one.</summary>
    public async Task<(bool KnewAny, bool KnewThis)> RecordAsync(Guid userId, string normalizedAddress, CancellationToken cancellationToken)
    {
        var hash = HMACSHA256.HashData(key.Value, Encoding.UTF8.GetBytes(normalizedAddress));
        var known = await db.KnownAddresses.AsNoTracking().Where(a => a.UserId == userId).Select(a => a.AddressHash).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO service_notification_known_address (user_id, address_hash, first_seen, last_seen) VALUES ({userId}, {hash}, {now}, {now})
            ON CONFLICT (user_id, address_hash) DO UPDATE SET last_seen = excluded.last_seen
            """, cancellationToken);
        return (known.Count > 0, known.Any(h => h.AsSpan().SequenceEqual(hash)));
    }
}
