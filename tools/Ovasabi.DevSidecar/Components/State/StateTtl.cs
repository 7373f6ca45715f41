using System.Globalization;

namespace Ovasabi.DevSidecar.Components.State;

/// <summary>Reads the <c>ttlInSeconds</c> request metadata the way daprd's stores do: a bad value fails the write.</summary>
internal static class StateTtl
{
    /// <summary>
    /// The requested TTL, or null when the key is absent or empty.
    /// <paramref name="rejectBelowMinusOne"/> adds the range check daprd's SQL stores make (-1 means no expiry).
    /// </summary>
    /// <exception cref="StateStoreException">the value is not an integer, or out of range</exception>
    public static int? Parse(IReadOnlyDictionary<string, string> metadata, bool rejectBelowMinusOne)
    {
        if (!metadata.TryGetValue(StateRequestMetadata.TtlKey, out var raw) || raw.Length == 0)
        {
            return null;
        }
        if (!int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ttl))
        {
            throw new StateStoreException($"incorrect value for metadata '{StateRequestMetadata.TtlKey}': '{raw}' is not an integer");
        }
        if (rejectBelowMinusOne && ttl < -1)
        {
            throw new StateStoreException($"incorrect value for metadata '{StateRequestMetadata.TtlKey}': must be -1 or greater");
        }
        return ttl;
    }
}
