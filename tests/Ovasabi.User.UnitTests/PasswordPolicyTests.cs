using Ovasabi.User.Domain;

namespace Ovasabi.User.UnitTests;

public sealed class PasswordPolicyTests
{
    private const string LengthProblem = "must be 10 to 128 characters long";
    private const string CommonProblem = "is too common: choose a less guessable password";

    [Theory]
    [InlineData(10, null)]
    [InlineData(9, LengthProblem)]
    [InlineData(128, null)]
    [InlineData(129, LengthProblem)]
    [InlineData(0, LengthProblem)]
    public void Length_must_be_between_10_and_128(int length, string? expected)
    {
        Assert.Equal(expected, PasswordPolicy.Validate(OfLength(length)));
    }

    [Fact]
    public void Length_is_counted_after_nfkc()
    {
        // U+FB01 LATIN SMALL LIGATURE FI is one character that NFKC writes as "fi".
        Assert.Null(PasswordPolicy.Validate(new string('\uFB01', 5)));
    }

    [Fact]
    public void Characters_outside_the_basic_plane_count_once_each()
    {
        // Nine emoji are 18 UTF-16 units but nine characters.
        Assert.Equal(LengthProblem, PasswordPolicy.Validate(string.Concat(Enumerable.Repeat("🔑", 9))));
        Assert.Null(PasswordPolicy.Validate(string.Concat(Enumerable.Repeat("🔑", 10))));
    }

    [Fact]
    public void Spaces_at_either_end_count_because_passwords_are_not_trimmed()
    {
        Assert.Null(PasswordPolicy.Validate("  abcdef  "));
    }

    [Theory]
    [InlineData("JohnSmith99")]
    [InlineData("johnsmith99")]
    [InlineData("JOHNSMITH99")]
    [InlineData("ｊｏｈｎｓｍｉｔｈ９９")] // fullwidth, the same after NFKC
    public void A_password_equal_to_the_username_ignoring_case_is_refused(string password)
    {
        Assert.Equal("must not be the same as the username", PasswordPolicy.Validate(password, username: " JohnSmith99"));
    }

    [Fact]
    public void A_password_that_only_contains_the_username_is_allowed()
    {
        Assert.Null(PasswordPolicy.Validate("johnsmith99 rules", username: "johnsmith99"));
    }

    [Fact]
    public void A_password_equal_to_the_email_local_part_ignoring_case_is_refused()
    {
        Assert.Equal(
            "must not be the same as the part of the email address before the '@'",
            PasswordPolicy.Validate("correct.horse", username: "someone", email: "Correct.Horse@example.com"));
    }

    [Fact]
    public void A_password_equal_to_the_whole_email_address_is_refused()
    {
        Assert.Equal(
            "must not be the same as the email address",
            PasswordPolicy.Validate("CH@Example.com", email: "ch@example.com"));
    }

    [Fact]
    public void Without_username_or_email_no_name_is_compared()
    {
        Assert.Null(PasswordPolicy.Validate("correct horse battery staple"));
        Assert.Null(PasswordPolicy.Validate("correct horse battery staple", username: "", email: "not an email"));
    }

    [Fact]
    public void A_lone_surrogate_is_reported_not_thrown()
    {
        Assert.Equal("must be valid Unicode text", PasswordPolicy.Validate("abcdefghij\uD800"));
    }

    [Theory]
    [InlineData("qwertyuiop")]
    [InlineData("Password123")]
    [InlineData("BASKETBALL")]
    [InlineData("ｂａｓｋｅｔｂａｌｌ")] // fullwidth, the same after NFKC
    public void A_listed_common_password_is_refused_whatever_its_case(string password)
    {
        Assert.Equal(CommonProblem, PasswordPolicy.Validate(password, username: "someone", email: "someone@example.com"));
    }

    [Fact]
    public void A_password_that_only_contains_a_listed_one_is_allowed()
    {
        Assert.Null(PasswordPolicy.Validate("basketball at the lighthouse"));
    }

    [Fact]
    public void The_shipped_list_is_loaded_in_the_compared_form()
    {
        // The file has some 2,300 entries of 10 or more characters; a broken embedding would leave none.
        Assert.True(PasswordPolicy.CommonPasswords.Count > 2000, $"{PasswordPolicy.CommonPasswords.Count} common passwords loaded");
        // Listed as "Translator": the set holds the lower-case form a password is compared in.
        Assert.Contains("translator", (IReadOnlySet<string>)PasswordPolicy.CommonPasswords);
        Assert.All(PasswordPolicy.CommonPasswords, p => Assert.True(p.Length >= PasswordPolicy.MinLength && !p.StartsWith('#'), p));
    }

    /// <summary>A password of the given length that is on no list (a run of one letter is).</summary>
    private static string OfLength(int length) => string.Concat(Enumerable.Repeat("tulip ", 30))[..length];
}
