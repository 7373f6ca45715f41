using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.Domain;

/// <summary>A place a user's notifications are posted to: a path under the URL of an operator's bindings.http component.</summary>
public sealed record WebhookEndpointView(Guid Id, Guid UserId, string Binding, string Path, IReadOnlyList<string> Categories, DateTimeOffset CreatedAt,
    DateTimeOffset? PreviousSecretValidUntil)
{
    /// <summary>The categories it listed, or every one but security when it listed none (security alerts go out only where asked for).</summary>
    public bool Receives(Category category) => Categories.Count == 0 ? category != Category.Security : Categories.Contains(category.Name);
}

/// <summary>The rules of webhook endpoints.</summary>
public static partial class WebhookRules
{
    public const int MaxEndpointsPerUser = 10;

    /// <summary>How long deliveries stay signed with a secret a rotation replaced, so receivers can switch without a gap.</summary>
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    /// <summary>One of the bindings the operator allows webhooks through.</summary>
    public static string Binding(Validator validator, string field, string binding, IReadOnlyList<string> allowed)
    {
        validator.Check(field, allowed.Contains(binding),
            allowed.Count == 0 ? "names no webhook binding: this deployment has none (Notification:WebhookBindings)" : $"must be one of {string.Join(", ", allowed)}");
        return binding;
    }

    /// <summary>A path appended to the binding's URL: no query, fragment, or climbing out of it.</summary>
    public static string Path(Validator validator, string field, string path)
    {
        // daprd's bindings.http refuses any URL with ".." in it, so such a path could never be delivered.
        validator.Check(field, PathPattern().IsMatch(path) && !path.Contains("..", StringComparison.Ordinal) && !path.Split('/').Any(s => s is "."),
            "must start with / and hold at most 200 of A-Z a-z 0-9 . _ ~ / -, without \"..\" or . segments");
        return path;
    }

    /// <summary>Distinct known categories; none means every one but security.</summary>
    public static List<string> Categories(Validator validator, string field, IReadOnlyList<string> categories)
    {
        var names = new List<string>();
        for (var i = 0; i < categories.Count && i <= Category.All.Count; i++)
        {
            var known = Category.Named(categories[i]) is not null;
            validator.Check($"{field}[{i}]", known, $"must be one of {string.Join(", ", Category.All.Select(c => c.Name))}");
            validator.Check($"{field}[{i}]", !known || !names.Contains(categories[i]), "is listed twice");
            names.Add(categories[i]);
        }
        validator.Check(field, categories.Count <= Category.All.Count, $"must list at most {Category.All.Count} categories");
        return names;
    }

    [GeneratedRegex("^/[A-Za-z0-9._~/-]{0,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex PathPattern();
}

/// <summary>
/// Webhook secrets and signatures as Standard Webhooks specifies them, so receivers can verify with any of its
/// libraries: the secret is <c>whsec_</c> + base64 of random bytes; the signature is <c>v1,</c> + base64 of
/// HMAC-SHA256 over <c>id.timestamp.body</c>, keyed with the decoded secret.
/// </summary>
public static class WebhookSignatures
{
    public const string SecretPrefix = "whsec_";
    public const string IdHeader = "webhook-id", TimestampHeader = "webhook-timestamp", SignatureHeader = "webhook-signature";

    /// <summary>How far a receiver should let a timestamp stray from its clock before refusing the request as a replay.</summary>
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    /// <summary>32 random bytes, the key of a new secret.</summary>
    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(32);

    /// <summary>The secret as its owner is shown it.</summary>
    public static string Secret(byte[] key) => SecretPrefix + Convert.ToBase64String(key);

    /// <summary>The <c>webhook-signature</c> header: one signature per key, space-separated (two while a rotated-out key is still valid).</summary>
    public static string Sign(string id, long timestamp, ReadOnlySpan<byte> body, IEnumerable<byte[]> keys)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return string.Join(' ', keys.Select(key => "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content))));
    }
}

/// <summary>What a webhook request carries: the message, as a receiver needs it to act without asking back.</summary>
public sealed record WebhookBody(Guid Id, string Type, string Category, bool Critical, DateTimeOffset CreatedAt, Guid UserId, string Title, string Text, JsonElement Data)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The UTF-8 JSON sent (and signed): the same bytes on every attempt.</summary>
    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(new
    {
        id = Id, type = Type, category = Category, critical = Critical, created_at = CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        user_id = UserId, title = Title, text = Text, data = Data,
    }, Json);
}

/// <summary>
/// Seals secrets at rest with AES-256-GCM under the service's key: a copy of the database alone does not let anyone
/// sign as the platform. The nonce travels in front of the ciphertext, the tag after it.
/// </summary>
public sealed class SecretBox(byte[] key)
{
    private const int NonceBytes = 12, TagBytes = 16;

    public byte[] Seal(byte[] secret)
    {
        var sealedBytes = new byte[NonceBytes + secret.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key.AsSpan(0, 32), TagBytes);
        aes.Encrypt(nonce, secret, sealedBytes.AsSpan(NonceBytes, secret.Length), sealedBytes.AsSpan(NonceBytes + secret.Length));
        return sealedBytes;
    }

    /// <exception cref="CryptographicException">sealed under another key, or altered</exception>
    public byte[] Open(byte[] sealedBytes)
    {
        var secret = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(key.AsSpan(0, 32), TagBytes);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes, secret.Length), sealedBytes.AsSpan(NonceBytes + secret.Length), secret);
        return secret;
    }
}
