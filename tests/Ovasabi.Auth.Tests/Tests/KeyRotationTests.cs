using Ovasabi.Testing.Platform;
using System.Buffers.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Auth.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Rotating the signing key (a newer entry in the secret, picked up by the auth app): new tokens are signed with it,
/// tokens signed before stay valid everywhere, and both public keys are published over gRPC and HTTP.
/// </summary>
[Collection(nameof(AuthCollection))]
public sealed class KeyRotationTests(AuthPlatform platform)
{
    // Sorts after the fixture's first key, so it becomes the signing key.
    private const string NewKeyId = "2026-06-01";

    [Fact]
    public async Task After_a_rotation_logins_get_the_new_key_older_tokens_stay_valid_and_both_keys_are_published()
    {
        var before = await platform.SignUpAsync();
        var oldKeyId = Kid(before.AccessToken);
        // The user app has fetched the old key set before the rotation.
        await platform.GetSelf(before.AccessToken, before.Id);

        platform.SigningKeys.Add(NewKeyId);
        await platform.RestartSidecarAsync(AppPlatform.AuthAppId);
        var after = await EventuallyAsync(() => LoginOrErrorAsync(before), r => r.Tokens is { } t && Kid(t.AccessToken) == NewKeyId,
            what: $"a login signed with key {NewKeyId}");

        var tokens = after.Tokens!;
        Assert.True(Jwt.Decode(tokens.AccessToken).SignedBy(platform.SigningKeys[NewKeyId]));
        await platform.ListOwnSessions(before.AccessToken);
        await platform.GetSelf(before.AccessToken, before.Id);
        await platform.ListOwnSessions(tokens.AccessToken);
        // The user app looks for a key it does not know yet at most every few seconds.
        await EventuallyAsync(() => AcceptedAsync(tokens.AccessToken, before.Id), ok => ok, what: "the user service accepting the new key");

        var jwks = await platform.AuthClient().GetJwksAsync(new Empty(), cancellationToken: Cancel);
        Assert.Equal(new[] { oldKeyId, NewKeyId }.Order(), jwks.Keys.Select(k => k.Kid).Order());
        foreach (var jwk in jwks.Keys)
        {
            var point = platform.SigningKeys[jwk.Kid].ExportParameters(includePrivateParameters: false).Q;
            Assert.Equal(("EC", "P-256", "ES256", "sig"), (jwk.Kty, jwk.Crv, jwk.Alg, jwk.Use));
            Assert.Equal((Base64Url.EncodeToString(point.X), Base64Url.EncodeToString(point.Y)), (jwk.X, jwk.Y));
        }
        Assert.Equal(jwks, await platform.HttpJwksAsync());
    }

    private static string Kid(string accessToken) => Jwt.Decode(accessToken).Header["kid"]!.GetValue<string>();

    private sealed record Attempt(TokenPair? Tokens, string? Error)
    {
        public override string ToString() => Tokens is null ? $"error {Error}" : $"key {Kid(Tokens.AccessToken)}";
    }

    /// <summary>A login of <paramref name="user"/>; right after the sidecar restart the app may still be reconnecting.</summary>
    private async Task<Attempt> LoginOrErrorAsync(Testing.Platform.SignedInUser user)
    {
        try
        {
            return new Attempt(await platform.Login(user.User.Username, user.Password), null);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown)
        {
            return new Attempt(null, $"{e.StatusCode}: {e.Status.Detail}");
        }
    }

    private async Task<bool> AcceptedAsync(string accessToken, string userId)
    {
        try
        {
            await platform.GetSelf(accessToken, userId);
            return true;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
        {
            return false;
        }
    }
}
