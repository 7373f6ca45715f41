using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.Grpc;

/// <summary>
/// Where a keyset page ended: the ordering, the sort value and user ID of its last row, and the fingerprint of the
/// filter it was listed with.
/// </summary>
/// <param name="Order">The ordering as requested, e.g. "create_time desc".</param>
/// <param name="LastSortValue">The last row's sort value, formatted by the caller (e.g. a timestamp or a username).</param>
/// <param name="LastId">The last row's ID (e.g. its UUID): the tie-breaker.</param>
/// <param name="FilterFingerprint">From <see cref="PageToken.Fingerprint"/> over the request's filter values.</param>
public sealed record PageCursor(string Order, string LastSortValue, Guid LastId, string FilterFingerprint);

/// <summary>
/// Opaque, URL-safe page tokens: base64url of the cursor as JSON followed by its HMAC-SHA256 tag. A token that was
/// altered, made with another key, or offered with another filter or ordering does not decode.
/// </summary>
/// <remarks>
/// The tag makes the cursor tamper-proof, not secret: anyone can read the JSON, which holds nothing the caller did not
/// already see. Tokens do not expire.
/// </remarks>
public static class PageToken
{
    /// <summary>HMAC-SHA256 wants a key at least as long as its output (RFC 2104).</summary>
    public const int MinKeyBytes = 32;

    /// <summary>Far above any real token; longer input is refused before it is decoded.</summary>
    public const int MaxTokenLength = 2048;

    private const int Version = 1;
    private const int TagBytes = 32;

    // Keeps these tags apart from any other HMAC made with the same key.
    private static readonly byte[] Context = "ovasabi.page-token\n"u8.ToArray();

    /// <summary>
    /// The token key of a service: configured (<c>Service:PageTokenKey</c>, base64), or derived from its database
    /// connection string so that every replica of the service accepts every other's tokens.
    /// </summary>
    public static byte[] KeyFrom(IConfiguration configuration, string service) =>
        ServiceKeys.From(configuration, "Service:PageTokenKey", $"ovasabi.{service}.page-token");

    /// <summary>The token for the cursor, signed with the key.</summary>
    /// <exception cref="ArgumentException">The key is shorter than <see cref="MinKeyBytes"/>: a configuration error.</exception>
    public static string Encode(PageCursor cursor, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        CheckKey(key);
        var payload = JsonSerializer.SerializeToUtf8Bytes(
            new Payload(Version, cursor.Order, cursor.LastSortValue, cursor.LastId, cursor.FilterFingerprint),
            PageTokenJson.Default.Payload);
        var token = new byte[payload.Length + TagBytes];
        payload.CopyTo(token, 0);
        Tag(key, payload, token.AsSpan(payload.Length));
        return Base64Url.EncodeToString(token);
    }

    /// <summary>
    /// The cursor in the token, or null when the token is malformed, was altered or made with another key, or was made
    /// for another ordering or filter than the ones given (the caller answers InvalidArgument "page_token: invalid").
    /// </summary>
    /// <exception cref="ArgumentException">The key is shorter than <see cref="MinKeyBytes"/>: a configuration error.</exception>
    public static PageCursor? Decode(string? token, ReadOnlySpan<byte> key, string order, string filterFingerprint)
    {
        CheckKey(key);
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(filterFingerprint);
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return null;
        }
        // The decoder skips whitespace and throws on other characters outside its alphabet (even from its Try method).
        var bytes = new byte[Base64Url.GetMaxDecodedLength(token.Length)];
        if (!token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            || Base64Url.DecodeFromChars(token, bytes, out _, out var length) != OperationStatus.Done
            || length <= TagBytes)
        {
            return null;
        }
        var payload = bytes.AsSpan(0, length - TagBytes);
        Span<byte> expected = stackalloc byte[TagBytes];
        Tag(key, payload, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(length - TagBytes, TagBytes)))
        {
            return null;
        }
        Payload? read;
        try
        {
            read = JsonSerializer.Deserialize(payload, PageTokenJson.Default.Payload);
        }
        catch (JsonException)
        {
            // Only reachable with a valid tag, i.e. a token this code made in an incompatible form.
            return null;
        }
        return read is { V: Version, O: { } o, S: { } s, F: { } f }
            && string.Equals(o, order, StringComparison.Ordinal)
            && string.Equals(f, filterFingerprint, StringComparison.Ordinal)
            ? new PageCursor(o, s, read.I, f)
            : null;
    }

    /// <summary>
    /// A short, stable digest of a request's filter values, in a fixed order chosen by the caller. Null and empty are
    /// told apart, and values are length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    /// </summary>
    public static string Fingerprint(params ReadOnlySpan<string?> filterValues)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var value in filterValues)
        {
            var bytes = value is null ? [] : Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteInt32BigEndian(length, value is null ? -1 : bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        return Base64Url.EncodeToString(hash.GetHashAndReset());
    }

    private static void Tag(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, Span<byte> tag)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Context);
        hmac.AppendData(payload);
        hmac.GetHashAndReset(tag);
    }

    private static void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinKeyBytes)
        {
            throw new ArgumentException($"The page token key must be at least {MinKeyBytes} bytes.", nameof(key));
        }
    }

    /// <summary>One-letter names keep tokens short in URLs.</summary>
    internal sealed record Payload(int V, string? O, string? S, Guid I, string? F);
}

[JsonSerializable(typeof(PageToken.Payload))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class PageTokenJson : JsonSerializerContext;
