using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Domain;

/// <summary>A message as Send reports it.</summary>
public sealed record MessageView(Guid Id, Guid UserId, string Channel, string Status, DateTimeOffset DueAt, string? Reason = null);

/// <summary>The rules of a Send request.</summary>
public static class SendRules
{
    public const int MaxKeyLength = 128;
    public const int MaxRecipients = 100;

    /// <summary>How far back a send time may lie (clocks differ) and how far ahead it may be.</summary>
    public static readonly TimeSpan PastTolerance = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(30);

    /// <summary>The notifications Send may send, with their category; every other one comes only from the platform's events.</summary>
    public static readonly IReadOnlyDictionary<string, Category> Sendable = new Dictionary<string, Category>(StringComparer.Ordinal)
    {
        ["platform.announcement"] = Category.Announcements,
    };

    public static string IdempotencyKey(Validator validator, string field, string key)
    {
        validator.Required(field, key);
        return PrintableKey(validator, field, key, MaxKeyLength);
    }

    /// <summary>At most <paramref name="max"/> printable ASCII characters without spaces: a key callers choose.</summary>
    private static string PrintableKey(Validator validator, string field, string key, int max)
    {
        validator.Check(field, key.Length <= max && key.All(c => c is >= '!' and <= '~'), $"must be at most {max} printable ASCII characters without spaces");
        return key;
    }

    /// <summary>1 to <see cref="MaxRecipients"/> distinct user ids.</summary>
    public static IReadOnlyList<Guid> Recipients(Validator validator, string field, IReadOnlyList<string> ids)
    {
        validator.Check(field, ids.Count is > 0 and <= MaxRecipients, $"must list 1 to {MaxRecipients} user ids");
        var parsed = new List<Guid>();
        for (var i = 0; i < ids.Count && i < MaxRecipients; i++)
        {
            var id = validator.Id($"{field}[{i}]", ids[i]);
            if (id != Guid.Empty)
            {
                validator.Check($"{field}[{i}]", !parsed.Contains(id), "is listed twice");
                parsed.Add(id);
            }
        }
        return parsed;
    }

    /// <summary>When to send: now when unset, else the time given, within the tolerated range.</summary>
    public static DateTimeOffset Due(Validator validator, string field, DateTimeOffset? sendAt, DateTimeOffset now)
    {
        if (sendAt is not { } at)
        {
            return now;
        }
        validator.Check(field, at >= now - PastTolerance && at <= now + MaxAhead, "must be at most 5 minutes in the past and 30 days ahead");
        return at < now ? now : at;
    }

    public static readonly TimeSpan DefaultDigestWindow = TimeSpan.FromMinutes(10);

    /// <summary>A digest when a key is given: printable ASCII up to 64, a window of 1 s to 24 h (10 min when unset).</summary>
    public static DigestGroup? Digest(Validator validator, string keyField, string key, string windowField, TimeSpan? window)
    {
        validator.Check(windowField, window is null || key.Length > 0, "needs a digest_key")
            .Check(windowField, window is null || (window >= TimeSpan.FromSeconds(1) && window <= TimeSpan.FromHours(24)), "must be between 1 second and 24 hours");
        if (key.Length == 0)
        {
            return null;
        }
        return new DigestGroup(PrintableKey(validator, keyField, key, 64), window ?? DefaultDigestWindow);
    }

    /// <summary>Every variable the template names must be given.</summary>
    public static void Data(Validator validator, string field, IReadOnlySet<string> given, IEnumerable<string> required)
    {
        foreach (var name in required.Where(n => !given.Contains(n)).Order(StringComparer.Ordinal))
        {
            validator.Add($"{field}.{name}", "is required by the notification's template");
        }
    }
}
