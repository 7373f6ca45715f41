using System.Text;
using Ovasabi.DevSidecar.Components.Bindings;

namespace Ovasabi.DevSidecar.Tests.Components.Bindings;

public sealed class GoCompatTests
{
    [Theory]
    [InlineData("\"abc\"", "abc")]
    [InlineData("\"a\\\"b\\\\c\"", "a\"b\\c")]
    [InlineData("\"\\a\\b\\f\\n\\r\\t\\v\"", "\a\b\f\n\r\t\v")]
    [InlineData("\"\\u00e9\\U0001F600\"", "é😀")]
    [InlineData("\"\\101\\x42\"", "AB")]
    [InlineData("\"\"", "")]
    [InlineData("'a'", "a")]
    [InlineData("'\\''", "'")]
    [InlineData("''", "")]
    [InlineData("`a\\nb`", "a\\nb")]
    [InlineData("`a\r\nb`", "a\nb")]
    public void TryUnquote_GoLiterals_AreDecoded(string literal, string expected)
    {
        Assert.True(GoCompat.TryUnquote(Encoding.UTF8.GetBytes(literal), out var value));
        Assert.Equal(expected, Encoding.UTF8.GetString(value));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("\"")]
    [InlineData("\"abc")]
    [InlineData("\"a\"b\"")]
    [InlineData("\"a\nb\"")]
    [InlineData("\"\\'\"")]
    [InlineData("'ab'")]
    [InlineData("'\\\"'")]
    [InlineData("\"\\q\"")]
    [InlineData("\"\\400\"")]
    [InlineData("\"\\uD800\"")]
    [InlineData("`a`b`")]
    public void TryUnquote_InvalidLiterals_AreRefused(string literal)
    {
        Assert.False(GoCompat.TryUnquote(Encoding.UTF8.GetBytes(literal), out _));
    }

    [Fact]
    public void TryUnquote_HexEscapeAboveAscii_IsARawByte_AndInvalidUtf8BecomesReplacementCharacters()
    {
        Assert.True(GoCompat.TryUnquote("\"\\xff\""u8, out var raw));
        Assert.True(GoCompat.TryUnquote([(byte)'"', 0xE2, 0x82, (byte)'"'], out var replaced));

        Assert.Equal([0xFF], raw);
        Assert.Equal("\uFFFD\uFFFD", Encoding.UTF8.GetString(replaced));
    }

    [Theory]
    [InlineData("aGVsbG8=", "hello")]
    [InlineData("aGVs\r\nbG8=", "hello")]
    [InlineData("", "")]
    [InlineData("YR==", "a")]
    public void TryDecodeBase64_PaddedStandardAlphabet_IsDecoded(string text, string expected)
    {
        Assert.True(GoCompat.TryDecodeBase64(Encoding.ASCII.GetBytes(text), out var bytes, out _));
        Assert.Equal(expected, Encoding.UTF8.GetString(bytes));
    }

    [Theory]
    [InlineData("aGVsbG8")]
    [InlineData("aGVs bG8=")]
    [InlineData("aG=sbG8=")]
    [InlineData("a===")]
    [InlineData("aGVsbG8_")]
    public void TryDecodeBase64_AnythingElse_IsRefused(string text)
    {
        Assert.False(GoCompat.TryDecodeBase64(Encoding.ASCII.GetBytes(text), out _, out var error));
        Assert.StartsWith("illegal base64 data at input byte", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(100.0, "100")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(1.25e-7, "1.25e-7")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(-0.0, "-0")]
    public void FormatFloat_MatchesGoJson(double value, string expected)
    {
        Assert.Equal(expected, GoCompat.FormatFloat(value));
    }

    [Fact]
    public void FormatFloat_SinglePrecisionAndPlainForms()
    {
        Assert.Equal("1.1", GoCompat.FormatFloat(1.1f, singlePrecision: true));
        Assert.Equal("1000000000000000000000", GoCompat.FormatFloat(1e21, plainOnly: true));
        Assert.Equal("0.000000125", GoCompat.FormatFloat(1.25e-7, plainOnly: true));
        Assert.Equal("json: unsupported value: NaN", Assert.Throws<NotSupportedException>(() => GoCompat.FormatFloat(double.NaN)).Message);
    }

    [Fact]
    public void FormatTime_IsRfc3339NanoInUtcWithoutTrailingZeros()
    {
        Assert.Equal("2024-01-02T03:04:05Z", GoCompat.FormatTime(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc)));
        Assert.Equal("2024-01-02T03:04:05.12Z", GoCompat.FormatTime(new DateTime(2024, 1, 2, 3, 4, 5, 120, DateTimeKind.Utc)));
        Assert.Equal("2024-01-02T03:04:05.0000001Z", GoCompat.FormatTime(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Unspecified).AddTicks(1)));
    }

    [Theory]
    [InlineData("42", 42L)]
    [InlineData("+7", 7L)]
    [InlineData("-3", -3L)]
    [InlineData("007", 7L)]
    public void TryAtoi_DecimalIntegers_AreParsed(string text, long expected)
    {
        Assert.True(GoCompat.TryAtoi(text, out var value, out var error));
        Assert.Equal(expected, value);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("", "strconv.Atoi: parsing \"\": invalid syntax")]
    [InlineData("high", "strconv.Atoi: parsing \"high\": invalid syntax")]
    [InlineData("0x10", "strconv.Atoi: parsing \"0x10\": invalid syntax")]
    [InlineData("1_000", "strconv.Atoi: parsing \"1_000\": invalid syntax")]
    [InlineData(" 1", "strconv.Atoi: parsing \" 1\": invalid syntax")]
    [InlineData("9223372036854775808", "strconv.Atoi: parsing \"9223372036854775808\": value out of range")]
    public void TryAtoi_AnythingElse_FailsInGosWords(string text, string message)
    {
        Assert.False(GoCompat.TryAtoi(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData("587", 587L)]
    [InlineData("0x1F", 31L)]
    [InlineData("0o17", 15L)]
    [InlineData("0b101", 5L)]
    [InlineData("010", 8L)]
    [InlineData("0", 0L)]
    [InlineData("1_000", 1000L)]
    [InlineData("0x_1f", 31L)]
    [InlineData("-12", -12L)]
    public void TryParseIntAnyBase_TakesGosBasePrefixesAndUnderscores(string text, long expected)
    {
        Assert.True(GoCompat.TryParseIntAnyBase(text, out var value, out _));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("smtp")]
    [InlineData("0587")]
    [InlineData("0x")]
    [InlineData("_1")]
    [InlineData("1__0")]
    [InlineData("1_")]
    public void TryParseIntAnyBase_InvalidText_FailsAsParseInt(string text)
    {
        Assert.False(GoCompat.TryParseIntAnyBase(text, out _, out var error));
        Assert.Equal($"strconv.ParseInt: parsing \"{text}\": invalid syntax", error);
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("a\"b\\c", "\"a\\\"b\\\\c\"")]
    [InlineData("tab\there\n", "\"tab\\there\\n\"")]
    [InlineData("\u0001", "\"\\x01\"")]
    public void Quote_EscapesLikeGosPercentQ(string text, string expected)
    {
        Assert.Equal(expected, GoCompat.Quote(text));
    }

    [Theory]
    [InlineData("content-type", "Content-Type")]
    [InlineData("X-CUSTOM-thing", "X-Custom-Thing")]
    [InlineData("ETag", "Etag")]
    [InlineData("www-authenticate", "Www-Authenticate")]
    [InlineData("bad header", "bad header")]
    [InlineData("x:y", "x:y")]
    public void CanonicalHeaderKey_IsGosCanonicalMimeHeaderKey(string name, string expected)
    {
        Assert.Equal(expected, GoCompat.CanonicalHeaderKey(name));
    }
}
