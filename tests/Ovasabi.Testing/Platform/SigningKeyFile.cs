using System.Security.Cryptography;
using System.Text.Json;

namespace Ovasabi.Testing.Platform;

/// <summary>
/// The auth service's signing keys as a <c>secretstores.local.file</c> JSON file (multiValued): secret
/// <c>auth-signing-keys</c> with one PEM EC P-256 private key per key ID. Tests keep the private keys, so they can
/// sign tokens of their own (expired, wrong audience, ...) with a key the platform trusts.
/// </summary>
public sealed class SigningKeyFile(string path)
{
    public const string SecretName = "auth-signing-keys";

    private readonly SortedDictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    public string Path { get; } = path;

    /// <summary>The key that signs new tokens: the one whose ID sorts last.</summary>
    public (string KeyId, ECDsa Key) Current => _keys.Last() is var last ? (last.Key, last.Value) : default;

    public ECDsa this[string keyId] => _keys[keyId];

    public SigningKeyFile Add(string keyId)
    {
        _keys[keyId] = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Write();
    }

    public SigningKeyFile Remove(string keyId)
    {
        _keys.Remove(keyId);
        return Write();
    }

    private SigningKeyFile Write()
    {
        var secret = _keys.ToDictionary(k => k.Key, k => k.Value.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path, JsonSerializer.Serialize(new Dictionary<string, object> { [SecretName] = secret }));
        return this;
    }
}
