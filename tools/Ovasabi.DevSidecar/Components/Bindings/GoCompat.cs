using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// The Go standard-library behaviours daprd's bindings expose to callers (string unquoting, base64, JSON
/// number and time rendering), re-implemented so the sidecar gives the same bytes back.
/// </summary>
internal static class GoCompat
{
    /// <summary>JSON output options: like Go's encoder, non-ASCII text stays readable and &lt; &gt; &amp; are escaped.</summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
    };

    /// <summary>The bytes of one JSON document written with <see cref="WriterOptions"/>.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>dapr/kit's truthy strings, used for per-request boolean overrides.</summary>
    public static bool IsTruthy(string value) =>
        value.Trim().ToLowerInvariant() is "y" or "yes" or "true" or "t" or "on" or "1";

    /// <summary>Go's strconv.Atoi: an optionally signed decimal integer; <paramref name="error"/> in Go's words.</summary>
    public static bool TryAtoi(string text, out long value, out string? error) =>
        TryParseInt(text, "strconv.Atoi", allowPrefixes: false, out value, out error);

    /// <summary>
    /// Go's strconv.ParseInt(text, 0, 64), which weakly typed metadata decoding uses for integer fields: a sign,
    /// then 0x / 0o / 0b / a leading 0 choose the base, and underscores may separate digits.
    /// </summary>
    public static bool TryParseIntAnyBase(string text, out long value, out string? error) =>
        TryParseInt(text, "strconv.ParseInt", allowPrefixes: true, out value, out error);

    private static bool TryParseInt(string text, string function, bool allowPrefixes, out long value, out string? error)
    {
        value = 0;
        error = $"{function}: parsing {Quote(text)}: invalid syntax";
        var unsigned = text.Length > 0 && text[0] is '-' or '+' ? text[1..] : text;
        if (unsigned.Length == 0)
        {
            return false;
        }
        var digits = unsigned;
        var radix = 10;
        if (allowPrefixes && digits[0] == '0')
        {
            radix = digits.Length >= 3 ? char.ToLowerInvariant(digits[1]) switch { 'x' => 16, 'o' => 8, 'b' => 2, _ => 0 } : 0;
            // A leading 0 without a letter after it means octal.
            (radix, digits) = radix == 0 ? (8, digits[1..]) : (radix, digits[2..]);
        }
        var magnitude = System.Numerics.BigInteger.Zero;
        var underscores = false;
        foreach (var c in digits)
        {
            if (c == '_' && allowPrefixes)
            {
                underscores = true;
                continue;
            }
            var digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'z' => c - 'a' + 10,
                >= 'A' and <= 'Z' => c - 'A' + 10,
                _ => int.MaxValue,
            };
            if (digit >= radix)
            {
                return false;
            }
            magnitude = magnitude * radix + digit;
        }
        if (underscores && !UnderscoresBetweenDigits(unsigned))
        {
            return false;
        }
        var signed = text[0] == '-' ? -magnitude : magnitude;
        if (signed < long.MinValue || signed > long.MaxValue)
        {
            error = $"{function}: parsing {Quote(text)}: value out of range";
            return false;
        }
        value = (long)signed;
        error = null;
        return true;
    }

    /// <summary>Go's rule for underscores in a number literal: only between digits, or between a base prefix and a digit.</summary>
    private static bool UnderscoresBetweenDigits(string unsigned)
    {
        var previous = '^';
        var i = 0;
        var hex = false;
        if (unsigned.Length >= 2 && unsigned[0] == '0' && char.ToLowerInvariant(unsigned[1]) is 'b' or 'o' or 'x')
        {
            i = 2;
            previous = '0';
            hex = char.ToLowerInvariant(unsigned[1]) == 'x';
        }
        for (; i < unsigned.Length; i++)
        {
            var c = unsigned[i];
            if (char.IsAsciiDigit(c) || (hex && char.IsAsciiHexDigit(c)))
            {
                previous = '0';
            }
            else if (c == '_')
            {
                if (previous != '0')
                {
                    return false;
                }
                previous = '_';
            }
            else
            {
                if (previous == '_')
                {
                    return false;
                }
                previous = '!';
            }
        }
        return previous != '_';
    }

    /// <summary>Go's %q of a string: double-quoted, with backslash escapes for quotes, backslashes and control characters.</summary>
    public static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\a' => "\\a",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\v' => "\\v",
                < ' ' or '\u007f' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>
    /// Go's textproto.CanonicalMIMEHeaderKey: upper case at the start and after each dash, lower case elsewhere
    /// ("content-type" → "Content-Type", "ETag" → "Etag"); a name with characters outside the token set stays as it is.
    /// </summary>
    public static string CanonicalHeaderKey(string name)
    {
        if (name.Any(c => !IsTokenChar(c)))
        {
            return name;
        }
        var canonical = new StringBuilder(name.Length);
        var upper = true;
        foreach (var c in name)
        {
            canonical.Append(upper ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            upper = c == '-';
        }
        return canonical.ToString();
    }

    private static bool IsTokenChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    /// <summary>Go's time.RFC3339Nano for a UTC instant: fraction trimmed of trailing zeros, "Z" zone.</summary>
    public static string FormatTime(DateTime value)
    {
        var utc = value.Kind switch
        {
            DateTimeKind.Local => value.ToUniversalTime(),
            _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
        };
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A float as Go's encoding/json writes it: shortest round-trip digits, plain notation unless the magnitude
    /// is below 1e-6 or at least 1e21 (or <paramref name="plainOnly"/>, which is strconv's 'f' format).
    /// </summary>
    /// <exception cref="NotSupportedException">NaN or an infinity, which Go refuses to encode.</exception>
    public static string FormatFloat(double value, bool singlePrecision = false, bool plainOnly = false)
    {
        if (!double.IsFinite(value))
        {
            var name = double.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
            throw new NotSupportedException($"json: unsupported value: {name}");
        }
        if (value == 0)
        {
            return double.IsNegative(value) ? "-0" : "0";
        }
        var shortest = singlePrecision
            ? ((float)value).ToString("R", CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);
        var (negative, digits, point) = Decompose(shortest);
        var magnitude = Math.Abs(value);
        var exponential = !plainOnly && (singlePrecision
            ? (float)magnitude < 1e-6f || (float)magnitude >= 1e21f
            : magnitude < 1e-6 || magnitude >= 1e21);
        var text = new StringBuilder(digits.Length + 8);
        if (negative)
        {
            text.Append('-');
        }
        if (exponential)
        {
            text.Append(digits[0]);
            if (digits.Length > 1)
            {
                text.Append('.').Append(digits, 1, digits.Length - 1);
            }
            var exponent = point - 1;
            // Go pads the exponent to two digits, then its JSON encoder drops the pad of negative ones.
            text.Append(exponent < 0
                ? "e-" + (-exponent).ToString(CultureInfo.InvariantCulture)
                : "e+" + exponent.ToString("00", CultureInfo.InvariantCulture));
        }
        else if (point <= 0)
        {
            text.Append("0.").Append('0', -point).Append(digits);
        }
        else if (point >= digits.Length)
        {
            text.Append(digits).Append('0', point - digits.Length);
        }
        else
        {
            text.Append(digits, 0, point).Append('.').Append(digits, point, digits.Length - point);
        }
        return text.ToString();
    }

    /// <summary>Splits .NET's round-trip text ("-1.25E-07") into sign, significant digits and decimal point position.</summary>
    private static (bool Negative, string Digits, int Point) Decompose(string roundTrip)
    {
        var negative = roundTrip.StartsWith('-');
        var body = negative ? roundTrip[1..] : roundTrip;
        var exponent = 0;
        var e = body.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(body[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            body = body[..e];
        }
        var dot = body.IndexOf('.');
        var point = (dot < 0 ? body.Length : dot) + exponent;
        var digits = body.Replace(".", "", StringComparison.Ordinal);
        var leading = digits.Length - digits.TrimStart('0').Length;
        return (negative, digits.Trim('0'), point - leading);
    }

    /// <summary>
    /// dapr's "unquote" of a binding body: data that parses as a JSON string becomes that string, a number or
    /// boolean becomes its text, null becomes empty; objects, arrays and non-JSON data stay as they are.
    /// </summary>
    public static byte[] UnquoteJson(byte[] data)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data);
        }
        catch (JsonException)
        {
            return data;
        }
        using (document)
        {
            var root = document.RootElement;
            return root.ValueKind switch
            {
                JsonValueKind.String => Encoding.UTF8.GetBytes(root.GetString()!),
                JsonValueKind.Number => Encoding.UTF8.GetBytes(FormatFloat(root.GetDouble(), plainOnly: true)),
                JsonValueKind.True => "true"u8.ToArray(),
                JsonValueKind.False => "false"u8.ToArray(),
                JsonValueKind.Null => [],
                _ => data,
            };
        }
    }

    /// <summary>
    /// Go's strconv.Unquote over raw bytes: a double-quoted, single-quoted (one character) or back-quoted Go
    /// literal. Invalid UTF-8 inside quotes becomes U+FFFD, as in Go.
    /// </summary>
    public static bool TryUnquote(ReadOnlySpan<byte> input, out byte[] value)
    {
        value = [];
        if (input.Length < 2)
        {
            return false;
        }
        var quote = input[0];
        if (quote == (byte)'`')
        {
            var close = input[1..].IndexOf((byte)'`') + 1;
            if (close != input.Length - 1)
            {
                return false;
            }
            // Carriage returns inside raw literals are dropped.
            var raw = input[1..close];
            var kept = new byte[raw.Length - raw.Count((byte)'\r')];
            var n = 0;
            foreach (var b in raw)
            {
                if (b != (byte)'\r')
                {
                    kept[n++] = b;
                }
            }
            value = kept;
            return true;
        }
        if (quote != (byte)'"' && quote != (byte)'\'')
        {
            return false;
        }
        var output = new ArrayBufferWriter<byte>(input.Length);
        var rest = input[1..];
        while (rest.Length > 0 && rest[0] != quote)
        {
            if (rest[0] == (byte)'\n' || !TryUnquoteChar(ref rest, quote, output))
            {
                return false;
            }
            if (quote == (byte)'\'')
            {
                break;
            }
        }
        if (rest.Length != 1 || rest[0] != quote)
        {
            return false;
        }
        value = output.WrittenSpan.ToArray();
        return true;
    }

    /// <summary>Decodes one (possibly escaped) character of a Go literal and appends its bytes.</summary>
    private static bool TryUnquoteChar(ref ReadOnlySpan<byte> s, byte quote, ArrayBufferWriter<byte> output)
    {
        var c = s[0];
        if (c >= 0x80)
        {
            if (Rune.DecodeFromUtf8(s, out var rune, out var consumed) != OperationStatus.Done)
            {
                // Go consumes one byte per invalid sequence and writes U+FFFD for it.
                rune = Rune.ReplacementChar;
                consumed = 1;
            }
            AppendRune(output, rune);
            s = s[consumed..];
            return true;
        }
        if (c != (byte)'\\')
        {
            output.Write([c]);
            s = s[1..];
            return true;
        }
        if (s.Length < 2)
        {
            return false;
        }
        var escape = s[1];
        s = s[2..];
        switch (escape)
        {
            case (byte)'a': output.Write([(byte)'\a']); return true;
            case (byte)'b': output.Write([(byte)'\b']); return true;
            case (byte)'f': output.Write([(byte)'\f']); return true;
            case (byte)'n': output.Write([(byte)'\n']); return true;
            case (byte)'r': output.Write([(byte)'\r']); return true;
            case (byte)'t': output.Write([(byte)'\t']); return true;
            case (byte)'v': output.Write([(byte)'\v']); return true;
            case (byte)'\\': output.Write([(byte)'\\']); return true;
            case (byte)'\'' or (byte)'"':
                if (escape != quote)
                {
                    return false;
                }
                output.Write([escape]);
                return true;
            case (byte)'x' or (byte)'u' or (byte)'U':
                var width = escape switch { (byte)'x' => 2, (byte)'u' => 4, _ => 8 };
                if (s.Length < width || !uint.TryParse(s[..width], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                {
                    return false;
                }
                s = s[width..];
                if (escape == (byte)'x')
                {
                    // \x is a single byte, not a code point.
                    output.Write([(byte)code]);
                    return true;
                }
                if (!Rune.IsValid(code))
                {
                    return false;
                }
                AppendRune(output, new Rune(code));
                return true;
            case >= (byte)'0' and <= (byte)'7':
                if (s.Length < 2 || s[0] is < (byte)'0' or > (byte)'7' || s[1] is < (byte)'0' or > (byte)'7')
                {
                    return false;
                }
                var octal = ((escape - '0') << 6) | ((s[0] - '0') << 3) | (s[1] - '0');
                s = s[2..];
                if (octal > 255)
                {
                    return false;
                }
                output.Write([(byte)octal]);
                return true;
            default:
                return false;
        }
    }

    private static void AppendRune(ArrayBufferWriter<byte> output, Rune rune)
    {
        var span = output.GetSpan(4);
        output.Advance(rune.EncodeToUtf8(span));
    }

    /// <summary>
    /// Go's base64.StdEncoding.DecodeString: padded standard alphabet, CR and LF ignored anywhere, nothing else
    /// tolerated. <paramref name="error"/> says where the input went wrong, in Go's words.
    /// </summary>
    public static bool TryDecodeBase64(ReadOnlySpan<byte> text, out byte[] bytes, out string? error)
    {
        bytes = [];
        error = null;
        var clean = new StringBuilder(text.Length);
        var padding = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = (char)text[i];
            if (c is '\r' or '\n')
            {
                continue;
            }
            var alphabet = c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '+' or '/';
            if ((alphabet && padding > 0) || (!alphabet && c != '='))
            {
                error = $"illegal base64 data at input byte {i}";
                return false;
            }
            padding += c == '=' ? 1 : 0;
            clean.Append(c);
        }
        if (clean.Length % 4 != 0 || padding > 2)
        {
            error = $"illegal base64 data at input byte {text.Length}";
            return false;
        }
        bytes = Convert.FromBase64String(clean.ToString());
        return true;
    }
}
