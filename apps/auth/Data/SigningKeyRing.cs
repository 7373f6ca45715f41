using Microsoft.Extensions.Options;
using Ovasabi.Auth.Domain;
using System.Security.Cryptography;
using Dapr.Client;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Ovasabi.Auth.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Auth.Data;

/// <summary>
/// The signing keys, read from the secret store at start and every <see cref="SigningKeyOptions.RefreshInterval"/>.
/// Every public key ever seen is recorded in the database and stays published for as long as a token it signed can
/// be valid after it left the secret, so rotating (add a newer key, later remove the old) logs nobody out.
/// </summary>
public sealed class SigningKeyRing(DaprClient dapr, IServiceScopeFactory scopes, IOptions<AuthOptions> options, IOptions<SecurityOptions> security, TimeProvider time, ILogger<SigningKeyRing> logger)
    : BackgroundService, ISigningKeySource, ISigningCredentialsSource
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile Snapshot? _snapshot;

    private sealed record Snapshot(string KeyId, ECDsa Signer, IReadOnlyList<Jwk> Published, DateTimeOffset LoadedAt);

    /// <summary>The newest key, which signs every token issued now.</summary>
    public SigningCredentials Current
    {
        get
        {
            var snapshot = _snapshot ?? throw new UnavailableException("no signing key loaded yet");
            return new SigningCredentials(new ECDsaSecurityKey(snapshot.Signer) { KeyId = snapshot.KeyId }, EcJwk.Algorithm);
        }
    }

    public Jwks Jwks => new() { Keys = { (_snapshot ?? throw new UnavailableException("no signing key loaded yet")).Published } };

    public async Task<IReadOnlyCollection<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        // Another replica may have picked up a rotation first: look again, but not more than once a second.
        if (snapshot is null || (keyId is not null && snapshot.Published.All(k => k.Kid != keyId) && time.GetUtcNow() - snapshot.LoadedAt > TimeSpan.FromSeconds(1)))
        {
            await LoadAsync(cancellationToken);
            snapshot = _snapshot!;
        }
        return [.. snapshot.Published.Select(EcJwk.ToSecurityKey)];
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Serving before a key is loaded would only answer errors; a missing or broken secret stops the app with its reason.
        await LoadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SigningKeys.RefreshInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await LoadAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Reloading signing keys failed; keeping key {Kid}", _snapshot?.KeyId);
            }
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _loading.WaitAsync(cancellationToken);
        try
        {
            var source = $"secret '{options.Value.SigningKeys.Secret}' of store '{options.Value.SigningKeys.Store}'";
            var entries = await dapr.GetSecretAsync(options.Value.SigningKeys.Store, options.Value.SigningKeys.Secret, cancellationToken: cancellationToken);
            var keys = entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (Kid: e.Key, Key: Parse(e.Key, e.Value, source))).ToList();
            if (keys.Count == 0)
            {
                throw new InvalidOperationException($"auth: {source} holds no signing key (one PKCS#8 PEM EC P-256 private key per entry)");
            }
            var now = time.GetUtcNow();
            var published = await RecordAsync(keys.Select(k => EcJwk.From(k.Key, k.Kid)).ToList(), now, cancellationToken);
            var (kid, signer) = keys[^1];
            if (_snapshot?.KeyId != kid)
            {
                logger.LogInformation("Signing with key {Kid}; publishing {Kids}", kid, string.Join(", ", published.Select(k => k.Kid)));
            }
            _snapshot = new Snapshot(kid, signer, published, now);
        }
        finally
        {
            _loading.Release();
        }
    }

    private static ECDsa Parse(string kid, string pem, string source)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidOperationException($"auth: entry '{kid}' of {source} is not a PEM EC private key: {e.Message}", e);
        }
        if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.FriendlyName is not ("nistP256" or "ECDSA_P256"))
        {
            key.Dispose();
            throw new InvalidOperationException($"auth: entry '{kid}' of {source} must be an EC P-256 key (ES256)");
        }
        return key;
    }

    /// <summary>Records the current keys as seen now; returns them with the retired keys still within their grace.</summary>
    private async Task<IReadOnlyList<Jwk>> RecordAsync(IReadOnlyList<Jwk> current, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        foreach (var jwk in current)
        {
            var json = JsonFormatter.Default.Format(jwk);
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO service_auth_signing_key (key_id, public_jwk, first_seen_at, last_seen_at)
                VALUES ({jwk.Kid}, {json}::jsonb, {now}, {now})
                ON CONFLICT (key_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, public_jwk = EXCLUDED.public_jwk
                """, cancellationToken);
        }
        // A token lives at most the access-token lifetime (plus clock skew) after it was signed.
        var graceStart = now - options.Value.AccessTokenLifetime - security.Value.ClockSkew;
        var kids = current.Select(k => k.Kid).ToList();
        var retired = await db.SigningKeys.AsNoTracking()
            .Where(k => !kids.Contains(k.KeyId) && k.LastSeenAt > graceStart)
            .Select(k => k.PublicJwk).ToListAsync(cancellationToken);
        return [.. current, .. retired.Select(JsonParser.Default.Parse<Jwk>)];
    }
}
