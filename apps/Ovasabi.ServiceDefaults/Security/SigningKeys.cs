using Microsoft.Extensions.Options;
using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using Ovasabi.Auth.V1;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>The public keys access tokens may be signed with.</summary>
public interface ISigningKeySource
{
    /// <summary>Every key currently trusted; a <paramref name="keyId"/> not among them may make the source look again.</summary>
    Task<IReadOnlyCollection<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken);
}

/// <summary>EC P-256 keys (ES256) as JSON Web Keys, the only kind the platform signs with.</summary>
public static class EcJwk
{
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    public static Jwk From(ECDsa key, string keyId)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        return new Jwk
        {
            Kty = "EC",
            Crv = "P-256",
            X = Base64UrlEncoder.Encode(parameters.Q.X),
            Y = Base64UrlEncoder.Encode(parameters.Q.Y),
            Kid = keyId,
            Use = "sig",
            Alg = Algorithm,
        };
    }

    public static JsonWebKey ToSecurityKey(Jwk jwk) => new()
    {
        Kty = jwk.Kty,
        Crv = jwk.Crv,
        X = jwk.X,
        Y = jwk.Y,
        KeyId = jwk.Kid,
        Use = jwk.Use,
        Alg = jwk.Alg,
    };
}

/// <summary>
/// The auth service's keys (GetJwks through Dapr), cached for <see cref="SecurityOptions.KeyRefreshInterval"/> and
/// fetched again early when a token names a key not seen yet (a rotation), at most every
/// <see cref="SecurityOptions.KeyRefetchDelay"/>.
/// </summary>
public sealed class RemoteJwksSource(AuthService.AuthServiceClient auth, IOptions<SecurityOptions> options, TimeProvider time, ILogger<RemoteJwksSource> logger) : ISigningKeySource
{
    private static readonly string AuthApp = AccessPolicy.AppServing(AuthService.Descriptor.FullName) ?? "auth";

    private readonly SemaphoreSlim _fetch = new(1, 1);
    private IReadOnlyCollection<SecurityKey> _keys = [];
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;

    public async Task<IReadOnlyCollection<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
    {
        if (!NeedsFetch(keyId))
        {
            return _keys;
        }
        await _fetch.WaitAsync(cancellationToken);
        try
        {
            if (NeedsFetch(keyId))
            {
                await FetchAsync(cancellationToken);
            }
            return _keys;
        }
        finally
        {
            _fetch.Release();
        }
    }

    private bool NeedsFetch(string? keyId)
    {
        var age = time.GetUtcNow() - _fetchedAt;
        var unknown = keyId is not null && _keys.All(k => k.KeyId != keyId);
        return age > options.Value.KeyRefreshInterval || (unknown && age > options.Value.KeyRefetchDelay);
    }

    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        try
        {
            var jwks = await auth.GetJwksAsync(new(), cancellationToken: cancellationToken);
            _keys = [.. jwks.Keys.Select(EcJwk.ToSecurityKey)];
            logger.LogInformation("Fetched {Count} signing key(s) from {App}: {Kids}", _keys.Count, AuthApp, string.Join(", ", _keys.Select(k => k.KeyId)));
        }
        catch (RpcException e) when (_keys.Count > 0)
        {
            // Keep verifying with the keys we have; a real rotation is retried after the refetch delay.
            logger.LogWarning(e, "Fetching signing keys from {App} failed; keeping {Count} known key(s)", AuthApp, _keys.Count);
        }
        catch (RpcException e)
        {
            throw new UnavailableException($"cannot verify access tokens: the signing keys of '{AuthApp}' are out of reach ({e.Status.StatusCode})", e);
        }
        finally
        {
            _fetchedAt = time.GetUtcNow();
        }
    }
}
