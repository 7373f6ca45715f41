using System.Globalization;
using System.Text.RegularExpressions;

namespace Ovasabi.DevSidecar.Hosting;

/// <summary>daprd's size and duration formats, for its flags and for component metadata.</summary>
public static partial class Sizes
{
    /// <summary>A positive size as a Kubernetes quantity ("4Mi", "512Ki", "1G") or a byte count.</summary>
    public static long Parse(string text) =>
        TryParseQuantity(text) is > 0 and var bytes ? bytes : throw new FormatException($"'{text}' is not a size (e.g. 4Mi)");

    /// <summary>
    /// A Kubernetes resource quantity in bytes (dapr's ByteSize): a decimal number with an optional binary (Ki, Mi,
    /// ...), decimal (k, M, ...) or exponent (e3) suffix; null when it is malformed or not a whole number of bytes.
    /// </summary>
    public static long? TryParseQuantity(string text)
    {
        var match = Quantity().Match(text);
        if (!match.Success || !decimal.TryParse(match.Groups["n"].Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }
        var suffix = match.Groups["s"].Value;
        decimal multiplier;
        try
        {
            multiplier = suffix switch
            {
                "" => 1,
                "Ki" or "Mi" or "Gi" or "Ti" or "Pi" or "Ei" => (decimal)Math.Pow(1024, "KMGTPE".IndexOf(suffix[0], StringComparison.Ordinal) + 1),
                "k" or "M" or "G" or "T" or "P" or "E" => (decimal)Math.Pow(1000, "kMGTPE".IndexOf(suffix[0], StringComparison.Ordinal) + 1),
                "m" => 0.001m,
                _ when suffix[0] is 'e' or 'E' && int.TryParse(suffix[1..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent) =>
                    exponent >= 0 ? (decimal)Math.Pow(10, exponent) : 1m / (decimal)Math.Pow(10, -exponent),
                _ => 0,
            };
            var bytes = number * multiplier;
            return multiplier == 0 || bytes != decimal.Truncate(bytes) || bytes > long.MaxValue || bytes < long.MinValue ? null : (long)bytes;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^(?<n>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?<s>[eE][+-]?[0-9]+|[KMGTPE]i|[kMGTPEm]|)$")]
    private static partial Regex Quantity();

    /// <summary>A Go duration, or a plain number of <paramref name="unit"/>.</summary>
    public static TimeSpan Duration(string text, TimeSpan unit) =>
        long.TryParse(text, out var count) ? unit * count : GoDuration.Parse(text);
}
