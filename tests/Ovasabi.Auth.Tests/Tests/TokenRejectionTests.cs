using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Testing.Platform;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Access tokens that must not pass, each forged with the platform's own signing key for a real live session so that
/// exactly one property is wrong; each is refused as Unauthenticated by the auth and the user service alike.
/// </summary>
[Collection(nameof(AuthCollection))]
public sealed class TokenRejectionTests(AuthPlatform platform)
{
    [Fact]
    public async Task A_forged_token_with_every_property_right_passes_both_services()
    {
        var user = await platform.SignUpAsync();
        var (kid, key) = platform.SigningKeys.Current;

        var token = Jwt.Es256(Jwt.Payload(user.Id, user.Tokens.SessionId), key, kid);

        Assert.Single((await platform.ListOwnSessions(token)).Sessions);
        Assert.Equal(user.Id, (await platform.GetSelf(token, user.Id)).UserId);
    }

    [Theory]
    [InlineData("expired", "TOKEN_EXPIRED")]
    [InlineData("not yet valid", "TOKEN_INVALID")]
    [InlineData("payload changed after signing", "TOKEN_INVALID")]
    [InlineData("wrong audience", "TOKEN_INVALID")]
    [InlineData("wrong issuer", "TOKEN_INVALID")]
    [InlineData("alg none", "TOKEN_INVALID")]
    [InlineData("signed by an unknown key", "TOKEN_INVALID")]
    [InlineData("signed by an unknown key under the current key id", "TOKEN_INVALID")]
    [InlineData("HS256 keyed with the public key", "TOKEN_INVALID")]
    [InlineData("no exp", "TOKEN_INVALID")]
    [InlineData("garbage", "TOKEN_INVALID")]
    [InlineData("three parts of garbage", "TOKEN_INVALID")]
    public async Task A_token_that_is_wrong_in_one_way_is_refused_as_Unauthenticated_by_the_auth_and_the_user_service(string flaw, string reason)
    {
        var user = await platform.SignUpAsync();
        var token = Forge(flaw, user);

        var (auth, users) = await platform.RejectedEverywhereAsync(token, user.Id);

        Assert.Equal(reason, Reason(auth));
        Assert.Equal(reason, Reason(users));
        // The real session is untouched by the attempt.
        await platform.GetSelf(user.AccessToken, user.Id);
    }

    private string Forge(string flaw, SignedInUser user)
    {
        var (kid, key) = platform.SigningKeys.Current;
        var payload = Jwt.Payload(user.Id, user.Tokens.SessionId);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // Well beyond the 30 s clock skew the services allow.
        const long Beyond = 5 * 60;
        switch (flaw)
        {
            case "expired":
                (payload["iat"], payload["nbf"], payload["exp"]) = (now - 2 * Beyond, now - 2 * Beyond, now - Beyond);
                return Jwt.Es256(payload, key, kid);
            case "not yet valid":
                (payload["nbf"], payload["exp"]) = (now + Beyond, now + 2 * Beyond);
                return Jwt.Es256(payload, key, kid);
            case "payload changed after signing":
                var signed = Jwt.Es256(payload, key, kid);
                payload["roles"] = new JsonArray("admin");
                return Jwt.WithPayload(signed, payload);
            case "wrong audience":
                payload["aud"] = "another-platform";
                return Jwt.Es256(payload, key, kid);
            case "wrong issuer":
                payload["iss"] = "someone-else";
                return Jwt.Es256(payload, key, kid);
            case "alg none":
                return Jwt.Unsigned(payload, kid);
            case "signed by an unknown key":
                using (var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    return Jwt.Es256(payload, stranger, "2099-01-01");
                }
            case "signed by an unknown key under the current key id":
                using (var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    return Jwt.Es256(payload, stranger, kid);
                }
            case "HS256 keyed with the public key":
                return Jwt.Hs256(payload, Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem()), kid);
            case "no exp":
                payload.Remove("exp");
                return Jwt.Es256(payload, key, kid);
            case "garbage":
                return "not a token at all";
            case "three parts of garbage":
                return "bm90IGpzb24.bm90IGpzb24.bm90IGpzb24";
            default:
                throw new ArgumentOutOfRangeException(nameof(flaw), flaw, null);
        }
    }
}
