using Ovasabi.ServiceDefaults.Grpc;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Ovasabi.User.Domain;

namespace Ovasabi.User.UnitTests;

public sealed class PageTokenTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly string Filter = PageToken.Fingerprint("USER_STATUS_ACTIVE", "support", "2025-01-01T00:00:00Z", null);

    private static readonly PageCursor Cursor = new(
        "create_time desc",
        "2025-03-04T05:06:07.123456Z",
        Guid.Parse("0195f0a4-7c1e-7d3a-9b2f-3e4d5c6b7a89"),
        Filter);

    [Fact]
    public void A_token_decodes_to_the_cursor_it_was_made_from()
    {
        var token = PageToken.Encode(Cursor, Key);

        Assert.Equal(Cursor, PageToken.Decode(token, Key, Cursor.Order, Filter));
    }

    [Fact]
    public void A_username_sort_value_in_any_script_survives_the_round_trip()
    {
        var cursor = Cursor with { Order = "username", LastSortValue = "ünal_用户\"quoted\"" };

        Assert.Equal(cursor, PageToken.Decode(PageToken.Encode(cursor, Key), Key, "username", Filter));
    }

    [Fact]
    public void A_token_uses_only_url_safe_characters()
    {
        var token = PageToken.Encode(Cursor with { LastSortValue = "??>>//++==" }, Key);

        Assert.Matches("^[A-Za-z0-9_-]+$", token);
    }

    [Fact]
    public void Flipping_any_bit_of_the_token_makes_it_invalid()
    {
        var bytes = Base64Url.DecodeFromChars(PageToken.Encode(Cursor, Key));

        for (var i = 0; i < bytes.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var tampered = (byte[])bytes.Clone();
                tampered[i] ^= (byte)(1 << bit);
                Assert.Null(PageToken.Decode(Base64Url.EncodeToString(tampered), Key, Cursor.Order, Filter));
            }
        }
    }

    [Fact]
    public void Changing_a_character_in_the_middle_makes_it_invalid()
    {
        var token = PageToken.Encode(Cursor, Key);
        var middle = token.Length / 2;
        var changed = token[..middle] + (token[middle] == 'A' ? 'B' : 'A') + token[(middle + 1)..];

        Assert.Null(PageToken.Decode(changed, Key, Cursor.Order, Filter));
    }

    [Fact]
    public void A_forged_cursor_with_a_tag_from_another_key_is_invalid()
    {
        var forged = PageToken.Encode(Cursor with { LastId = Guid.Empty }, RandomNumberGenerator.GetBytes(32));

        Assert.Null(PageToken.Decode(forged, Key, Cursor.Order, Filter));
    }

    [Fact]
    public void Payload_edited_by_hand_keeping_the_old_tag_is_invalid()
    {
        // Readable JSON is not a weakness: changing it breaks the tag.
        var bytes = Base64Url.DecodeFromChars(PageToken.Encode(Cursor, Key));
        var json = Encoding.UTF8.GetString(bytes, 0, bytes.Length - 32);
        var edited = Encoding.UTF8.GetBytes(json.Replace("create_time desc", "create_time asc\u0020"));
        var token = Base64Url.EncodeToString([.. edited, .. bytes[^32..]]);

        Assert.Contains("create_time desc", json);
        Assert.Null(PageToken.Decode(token, Key, "create_time asc ", Filter));
    }

    [Fact]
    public void A_token_offered_with_another_filter_is_invalid()
    {
        var token = PageToken.Encode(Cursor, Key);
        var otherFilter = PageToken.Fingerprint("USER_STATUS_SUSPENDED", "support", "2025-01-01T00:00:00Z", null);

        Assert.Null(PageToken.Decode(token, Key, Cursor.Order, otherFilter));
    }

    [Fact]
    public void A_token_offered_with_another_ordering_is_invalid()
    {
        var token = PageToken.Encode(Cursor, Key);

        Assert.Null(PageToken.Decode(token, Key, "create_time", Filter));
        Assert.Null(PageToken.Decode(token, Key, "username desc", Filter));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("!!!!")]
    [InlineData("eyJ2IjoxfQ")] // {"v":1} with no tag
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // exactly a tag's length of zeros
    public void Garbage_is_invalid_rather_than_an_exception(string? token)
    {
        Assert.Null(PageToken.Decode(token, Key, Cursor.Order, Filter));
    }

    [Fact]
    public void An_overlong_token_is_refused_before_decoding()
    {
        Assert.Null(PageToken.Decode(new string('A', PageToken.MaxTokenLength + 1), Key, Cursor.Order, Filter));
    }

    [Fact]
    public void A_key_shorter_than_32_bytes_is_a_configuration_error()
    {
        var shortKey = new byte[31];

        Assert.Throws<ArgumentException>(() => PageToken.Encode(Cursor, shortKey));
        Assert.Throws<ArgumentException>(() => PageToken.Decode("x", shortKey, Cursor.Order, Filter));
    }

    [Fact]
    public void The_fingerprint_is_stable_and_depends_on_every_value_and_its_position()
    {
        Assert.Equal(PageToken.Fingerprint("a", "b"), PageToken.Fingerprint("a", "b"));
        Assert.NotEqual(PageToken.Fingerprint("a", "b"), PageToken.Fingerprint("b", "a"));
        Assert.NotEqual(PageToken.Fingerprint("ab", "c"), PageToken.Fingerprint("a", "bc"));
        Assert.NotEqual(PageToken.Fingerprint("a", null), PageToken.Fingerprint("a", ""));
        Assert.NotEqual(PageToken.Fingerprint("a"), PageToken.Fingerprint("a", null));
        Assert.Matches("^[A-Za-z0-9_-]{43}$", PageToken.Fingerprint());
    }

    [Fact]
    public void A_token_stays_short_enough_for_a_url()
    {
        var token = PageToken.Encode(Cursor, Key);

        Assert.InRange(token.Length, 1, 400);
    }
}
