using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ovasabi.Notification.Domain;

/// <summary>What an unsubscribe link allows: turning <see cref="Category"/> off on <see cref="Channel"/> for the user a message went to.</summary>
public sealed record UnsubscribeGrant(Guid UserId, string Category, string Channel, Guid MessageId, DateTimeOffset Expires);

/// <summary>
/// Signed unsubscribe tokens: <c>u1.&lt;payload&gt;.&lt;signature&gt;</c>, the payload base64url JSON of the grant and the
/// signature HMAC-SHA256 under the service's key. Anyone holding the link may use it (mail clients follow it without
/// the user signing in), so it grants one thing only, and expires.
/// </summary>
public sealed class UnsubscribeLinks(byte[] key)
{
    public const string Version = "u1";

    /// <summary>How long a link works; mail is often read weeks late.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(60);

    public string Token(UnsubscribeGrant grant)
    {
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Payload(grant.UserId, grant.Category, grant.Channel, grant.MessageId, grant.Expires.ToUnixTimeSeconds())));
        return $"{Version}.{payload}.{Base64Url.EncodeToString(Sign(payload))}";
    }

    /// <summary>The grant of a token this service signed that has not expired, else null (malformed, forged, altered, expired: one answer).</summary>
    public UnsubscribeGrant? Read(string token, DateTimeOffset now)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || parts[0] != Version || !Base64Url.IsValid(parts[2]) || !Base64Url.IsValid(parts[1]))
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(Base64Url.DecodeFromChars(parts[2]), Sign(parts[1])))
        {
            return null;
        }
        try
        {
            if (JsonSerializer.Deserialize<Payload>(Base64Url.DecodeFromChars(parts[1])) is not { } payload)
            {
                return null;
            }
            var expires = DateTimeOffset.FromUnixTimeSeconds(payload.Expires);
            return expires > now && Domain.Category.Named(payload.Category) is not null && Preferences.Channels.Contains(payload.Channel)
                ? new UnsubscribeGrant(payload.UserId, payload.Category, payload.Channel, payload.MessageId, expires)
                : null;
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            // Signed by us but unreadable: only a key shared with another format could do that; refuse it like a forgery.
            return null;
        }
    }

    /// <summary>What identifies a used token (its signature's hash), so the table of used links holds no live credential.</summary>
    public static byte[] UseKey(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    private byte[] Sign(string payload) => HMACSHA256.HashData(key, Encoding.ASCII.GetBytes("ovasabi.unsubscribe\n" + payload));

    private sealed record Payload(
        [property: JsonPropertyName("u")] Guid UserId,
        [property: JsonPropertyName("c")] string Category,
        [property: JsonPropertyName("ch")] string Channel,
        [property: JsonPropertyName("m")] Guid MessageId,
        [property: JsonPropertyName("exp")] long Expires);
}
