using Ovasabi.User.Domain;

namespace Ovasabi.User.UnitTests;

public sealed class EmailsTests
{
    [Fact]
    public void Normalize_trims_and_turns_fullwidth_characters_into_ascii()
    {
        Assert.Equal("alice@example.com", Emails.Normalize("  ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ \t"));
    }

    [Fact]
    public void Canonical_lower_cases_local_part_and_domain()
    {
        Assert.Equal("alice.smith@example.com", Emails.Canonical(" Alice.Smith@Example.COM "));
        Assert.Equal(Emails.Canonical("BOB@EXAMPLE.ORG"), Emails.Canonical("bob@example.org"));
    }

    [Fact]
    public void LocalPart_is_the_normalised_text_before_the_at_sign()
    {
        Assert.Equal("Alice.Smith", Emails.LocalPart(" Alice.Smith@Example.com"));
    }

    [Theory]
    [InlineData("alice@example.com")]
    [InlineData("a@b.io")]
    [InlineData("alice+news@mail.example.co.uk")]
    [InlineData("o'brien@example.ie")]
    [InlineData("first_last-1@sub-domain.example.com")]
    [InlineData("müller@bücher.de")] // internationalised local part and domain
    [InlineData("  Alice@Example.com  ")] // checked after trimming
    public void Acceptable_addresses_pass(string email)
    {
        Assert.Null(Emails.Validate(email));
    }

    [Theory]
    [InlineData("", "is required")]
    [InlineData("   ", "is required")]
    [InlineData("alice.example.com", "must contain exactly one '@'")]
    [InlineData("alice@home@example.com", "must contain exactly one '@'")]
    [InlineData("@example.com", "must have a name before the '@'")]
    [InlineData("ali ce@example.com", "must not contain spaces or control characters")]
    [InlineData("alice@exam\tple.com", "must not contain spaces or control characters")]
    [InlineData("alice@exam\u0000ple.com", "must not contain spaces or control characters")]
    [InlineData("Alice <alice@example.com>", "must not contain spaces or control characters")]
    [InlineData("alice@localhost", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("alice@", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("alice@[127.0.0.1]", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("alice@example.com.", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("alice@.example.com", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("alice@example..com", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("alice@-example.com", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("alice@example-.com", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("alice@exa_mple.com", "must have a domain name with a dot after the '@', such as example.com")]
    [InlineData("a..b@example.com", "is not a valid email address")]
    [InlineData(".alice@example.com", "is not a valid email address")]
    [InlineData("alice(work)@example.com", "is not a valid email address")] // parses, but as "alice@example.com"
    public void Unacceptable_addresses_are_refused_with_the_reason(string email, string expected)
    {
        Assert.Equal(expected, Emails.Validate(email));
    }

    [Fact]
    public void The_local_part_may_have_64_characters_but_not_65()
    {
        Assert.Null(Emails.Validate(new string('a', 64) + "@example.com"));
        Assert.Equal("must have at most 64 characters before the '@'", Emails.Validate(new string('a', 65) + "@example.com"));
    }

    [Fact]
    public void The_whole_address_may_have_254_characters_but_not_255()
    {
        // 64 + "@" + three 60-letter labels and "." separators + a final label to reach the length exactly.
        static string Address(int length)
        {
            var prefix = new string('a', 64) + "@" + string.Join('.', Enumerable.Repeat(new string('b', 60), 3)) + ".";
            return prefix + new string('c', length - prefix.Length);
        }

        Assert.Equal(254, Address(254).Length);
        Assert.Null(Emails.Validate(Address(254)));
        Assert.Equal("must be at most 254 characters long", Emails.Validate(Address(255)));
    }

    [Fact]
    public void A_domain_label_may_have_63_characters_but_not_64()
    {
        Assert.Null(Emails.Validate($"alice@{new string('d', 63)}.com"));
        Assert.Equal(
            "must have a domain name with a dot after the '@', such as example.com",
            Emails.Validate($"alice@{new string('d', 64)}.com"));
    }

    [Fact]
    public void A_lone_surrogate_is_reported_not_thrown()
    {
        Assert.Equal("must be valid Unicode text", Emails.Validate("ali\uDC00ce@example.com"));
    }
}
