using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Ovasabi.Auth.Tests.Platform;

/// <summary>A JWT taken apart: header and payload as JSON, the signature, and the text it signs.</summary>
public sealed record DecodedJwt(JsonObject Header, JsonObject Payload, byte[] Signature, byte[] SigningInput)
{
    public string Text(string claim) => Payload[claim]?.GetValue<string>() ?? throw new KeyNotFoundException(claim);

    public long Seconds(string claim) => Payload[claim]?.GetValue<long>() ?? throw new KeyNotFoundException(claim);

    /// <summary>Whether <paramref name="key"/> made the ES256 signature.</summary>
    public bool SignedBy(ECDsa key) => key.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
}

/// <summary>
/// JWTs built by hand rather than with a token library, so a test can get exactly one thing wrong (an algorithm no
/// library would sign with, a payload changed after signing) and leave everything else as the auth service does it.
/// </summary>
public static class Jwt
{
    /// <summary>A payload like the auth service's for <paramref name="userId"/>'s live session, valid from now for 10 minutes.</summary>
    public static JsonObject Payload(string userId, string sessionId, DateTimeOffset? issuedAt = null)
    {
        var now = (issuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        return new JsonObject
        {
            ["iss"] = "ovasabi-auth",
            ["aud"] = "ovasabi",
            ["sub"] = userId,
            ["sid"] = sessionId,
            ["roles"] = new JsonArray("user"),
            ["jti"] = Guid.NewGuid().ToString(),
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 600,
        };
    }

    public static JsonObject Header(string alg, string? kid)
    {
        var header = new JsonObject { ["alg"] = alg, ["typ"] = "JWT" };
        if (kid is not null)
        {
            header["kid"] = kid;
        }
        return header;
    }

    public static string Es256(JsonObject payload, ECDsa key, string kid)
    {
        var input = SigningInput(Header("ES256", kid), payload);
        return $"{input}.{Base64Url.EncodeToString(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))}";
    }

    public static string Hs256(JsonObject payload, byte[] secret, string kid)
    {
        var input = SigningInput(Header("HS256", kid), payload);
        return $"{input}.{Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)))}";
    }

    /// <summary><c>alg: none</c>: no signature at all.</summary>
    public static string Unsigned(JsonObject payload, string kid) => $"{SigningInput(Header("none", kid), payload)}.";

    /// <summary>The token with its payload replaced and its original signature kept.</summary>
    public static string WithPayload(string token, JsonObject payload)
    {
        var parts = token.Split('.');
        return $"{parts[0]}.{Encode(payload)}.{parts[2]}";
    }

    public static DecodedJwt Decode(string token)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        return new DecodedJwt(
            JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!.AsObject(),
            JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject(),
            Base64Url.DecodeFromChars(parts[2]),
            Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"));
    }

    private static string SigningInput(JsonObject header, JsonObject payload) => $"{Encode(header)}.{Encode(payload)}";

    private static string Encode(JsonObject json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.ToJsonString()));
}
