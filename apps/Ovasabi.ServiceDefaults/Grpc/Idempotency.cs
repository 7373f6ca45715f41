using System.Security.Cryptography;
using System.Text;

namespace Ovasabi.ServiceDefaults.Grpc;

/// <summary>
/// Who asked for a mutating call and how to recognise a retry: the key is scoped to the actor, and the fingerprint
/// tells a retry of the same request from another request under the same key.
/// </summary>
public sealed record RequestEnvelope(string Actor, string IdempotencyKey, byte[] Fingerprint, string? RequestId);

/// <summary>Exactly-once answers per idempotency key.</summary>
public static class Idempotency
{
    /// <summary>SHA-256 over the operation's name, a zero byte and the request's encoded bytes.</summary>
    public static byte[] Fingerprint(string operation, ReadOnlySpan<byte> request)
    {
        var input = new byte[operation.Length + 1 + request.Length];
        Encoding.ASCII.GetBytes(operation, input);
        request.CopyTo(input.AsSpan(operation.Length + 1));
        return SHA256.HashData(input);
    }

    /// <summary>A stored answer may be replayed only to the request it answered: FailedPrecondition otherwise.</summary>
    public static void EnsureSameRequest(byte[] stored, byte[] fingerprint, string key)
    {
        if (!CryptographicOperations.FixedTimeEquals(stored, fingerprint))
        {
            throw new FailedPreconditionException($"idempotency key '{ErrorText.Quote(key)}' was used for a different request; use a new key for a new request", "IDEMPOTENCY_KEY_REUSED");
        }
    }
}
