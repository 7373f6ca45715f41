using System.Text;
using Ovasabi.User.Domain;

namespace Ovasabi.User.UnitTests;

public sealed class UsernamesTests
{
    [Fact]
    public void A_username_in_fullwidth_letters_normalises_to_ascii_and_is_reserved()
    {
        Assert.Equal("ADMIN", Usernames.Normalize("ＡＤＭＩＮ"));
        Assert.Equal("admin", Usernames.Canonical("ＡＤＭＩＮ"));
        Assert.True(Usernames.IsReserved("ＡＤＭＩＮ"));
        Assert.Equal("is reserved", Usernames.Validate("ＡＤＭＩＮ"));
    }

    [Theory]
    [InlineData("  alice  ", "alice")]
    [InlineData("\u3000bob\u3000", "bob")] // ideographic spaces, which NFKC turns into plain ones
    [InlineData("\u00A0carol", "carol")]
    [InlineData("ﬁsh", "fish")] // a ligature is a compatibility form
    [InlineData("ａｌｉｃｅ", "alice")]
    [InlineData("Ａｌｉｃｅ", "Alice")] // Normalize keeps case: it is what is shown
    [InlineData("e\u0301mile", "émile")] // decomposed accents are composed
    public void Normalize_trims_and_applies_nfkc(string raw, string expected)
    {
        var normalized = Usernames.Normalize(raw);

        Assert.Equal(expected, normalized);
        Assert.True(normalized.IsNormalized(NormalizationForm.FormKC));
    }

    [Fact]
    public void Names_differing_only_in_case_or_compatibility_form_share_one_canonical_key()
    {
        var variants = new[] { "Alice", "ALICE", "alice", " ａｌｉｃｅ ", "ＡＬＩＣＥ" };

        Assert.All(variants, v => Assert.Equal("alice", Usernames.Canonical(v)));
    }

    public static TheoryData<string> ReservedNames => [.. Usernames.Reserved];

    [Theory]
    [MemberData(nameof(ReservedNames))]
    public void Every_reserved_name_is_refused_in_lower_upper_and_fullwidth_form(string name)
    {
        var fullwidth = string.Concat(name.ToUpperInvariant().Select(c => (char)(c - 'A' + 'Ａ')));

        Assert.Equal("is reserved", Usernames.Validate(name));
        Assert.Equal("is reserved", Usernames.Validate(name.ToUpperInvariant()));
        Assert.Equal("is reserved", Usernames.Validate(fullwidth));
    }

    [Fact]
    public void The_reserved_list_is_lower_case_and_has_no_duplicates()
    {
        Assert.All(Usernames.Reserved, n => Assert.Equal(n.ToLowerInvariant(), n));
        Assert.Equal(Usernames.Reserved.Count, Usernames.Reserved.Distinct().Count());
        Assert.Contains("anonymous", Usernames.Reserved);
    }

    [Theory]
    [InlineData("admin2")]
    [InlineData("the_admin")]
    [InlineData("rooted")]
    public void A_name_that_merely_contains_a_reserved_word_is_allowed(string name)
    {
        Assert.Null(Usernames.Validate(name));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("alice")]
    [InlineData("bob_smith")]
    [InlineData("j.doe-99")]
    [InlineData("7of9")]
    [InlineData("Ünal")]
    [InlineData("用户名")]
    [InlineData("Ölçek.Ağa")]
    [InlineData("नमस्ते")] // Devanagari needs its combining vowel signs and virama
    [InlineData("Алиса")]
    [InlineData("alice.")] // the rules constrain the first character only
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")] // 32
    public void Acceptable_usernames_pass(string name)
    {
        Assert.Null(Usernames.Validate(name));
    }

    [Theory]
    [InlineData("", "is required")]
    [InlineData("   ", "is required")]
    [InlineData("ab", "must be 3 to 32 characters long")]
    [InlineData("ａｂ", "must be 3 to 32 characters long")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456", "must be 3 to 32 characters long")]
    [InlineData("_alice", "must start with a letter or a digit")]
    [InlineData(".alice", "must start with a letter or a digit")]
    [InlineData("-alice", "must start with a letter or a digit")]
    [InlineData("\u0301abc", "must start with a letter or a digit")]
    [InlineData("al__ice", "must not have two of '_', '.' and '-' in a row")]
    [InlineData("al._ice", "must not have two of '_', '.' and '-' in a row")]
    [InlineData("al-.ice", "must not have two of '_', '.' and '-' in a row")]
    [InlineData("al ice", "may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("al@ice", "may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("alice!", "may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("ali😀ce", "may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("ali\u200Bce", "may contain only letters, digits, '_', '.' and '-'")] // zero-width space
    [InlineData("ali\u202Ece", "may contain only letters, digits, '_', '.' and '-'")] // right-to-left override
    [InlineData("a1_\u0301", "may contain only letters, digits, '_', '.' and '-'")] // a mark must follow a letter
    public void Unacceptable_usernames_are_refused_with_the_reason(string name, string expected)
    {
        Assert.Equal(expected, Usernames.Validate(name));
    }

    [Fact]
    public void Length_is_counted_after_nfkc_so_one_compatibility_character_can_become_several()
    {
        // U+337F SQUARE CORPORATION is one character that NFKC spells as four ideographs.
        Assert.Equal("株式会社", Usernames.Normalize("㍿"));
        Assert.Null(Usernames.Validate("㍿"));
    }

    [Fact]
    public void Characters_outside_the_basic_plane_count_once_each()
    {
        // U+20000 is a CJK ideograph (a letter) stored as a surrogate pair: 32 of them are 64 UTF-16 units.
        var ideograph = char.ConvertFromUtf32(0x20000);

        Assert.Null(Usernames.Validate(string.Concat(Enumerable.Repeat(ideograph, 32))));
        Assert.Equal("must be 3 to 32 characters long", Usernames.Validate(string.Concat(Enumerable.Repeat(ideograph, 33))));
    }

    [Fact]
    public void A_lone_surrogate_is_reported_by_validate_but_rejected_by_normalize()
    {
        const string broken = "ab\uD800cd";

        Assert.Equal("must be valid Unicode text", Usernames.Validate(broken));
        Assert.False(Usernames.IsReserved(broken));
        Assert.Throws<ArgumentException>(() => Usernames.Normalize(broken));
        Assert.Throws<ArgumentException>(() => Usernames.Canonical(broken));
    }
}
