using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ovasabi.User.Domain;
using Ovasabi.User.Grpc;
using Ovasabi.User.V1;

namespace Ovasabi.User.UnitTests;

public sealed class ProfileRulesTests
{
    [Fact]
    public void An_empty_or_missing_profile_has_no_problems()
    {
        Assert.Empty(ProfileRules.Validate(UserMapping.Input(new Profile())));
        Assert.Empty(ProfileRules.Validate(UserMapping.Input(null)));
    }

    [Fact]
    public void A_complete_valid_profile_has_no_problems()
    {
        var profile = new Profile
        {
            DisplayName = "Ada Lovelace 👩‍💻",
            AvatarUrl = "https://cdn.example.com/avatars/ada.png?size=128",
            Bio = "Mathematician.\nWrote the first program.",
            Locale = "en-GB",
            TimeZone = "Europe/London",
            CustomFields = Struct.Parser.ParseJson("""{"team": "analytics", "tags": ["a", "b"], "level": 3, "lead": null}"""),
        };

        Assert.Empty(ProfileRules.Validate(UserMapping.Input(profile)));
    }

    [Fact]
    public void Each_problem_is_named_by_its_field_path_under_the_given_prefix()
    {
        var profile = new Profile { AvatarUrl = "ftp://example.com/a.png", Locale = "en_GB", Bio = "fine" };

        Assert.Equal(
            ["profile.avatar_url", "profile.locale"],
            ProfileRules.Validate(UserMapping.Input(profile)).Select(p => p.Field));
        Assert.Equal(
            ["user.profile.avatar_url", "user.profile.locale"],
            ProfileRules.Validate(UserMapping.Input(profile), "user.profile").Select(p => p.Field));
    }

    [Fact]
    public void ValidateField_checks_one_named_field_and_refuses_an_unknown_name()
    {
        var profile = new Profile { Bio = new string('b', 501), Locale = "!!" };

        Assert.Equal("must be at most 500 characters long", ProfileRules.ValidateField(UserMapping.Input(profile)!, "bio"));
        Assert.Null(ProfileRules.ValidateField(UserMapping.Input(profile)!, "display_name"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfileRules.ValidateField(UserMapping.Input(profile)!, "nickname"));
    }

    [Fact]
    public void Fields_lists_every_field_of_the_profile_message()
    {
        var protoFields = Profile.Descriptor.Fields.InFieldNumberOrder().Select(f => f.Name);

        Assert.Equal(protoFields, ProfileRules.Fields);
    }

    [Fact]
    public void A_display_name_may_have_64_characters_counting_an_emoji_as_one()
    {
        Assert.Null(ProfileRules.ValidateDisplayName(new string('a', 64)));
        Assert.Null(ProfileRules.ValidateDisplayName(string.Concat(Enumerable.Repeat("😀", 64))));
        Assert.Equal("must be at most 64 characters long", ProfileRules.ValidateDisplayName(new string('a', 65)));
    }

    [Theory]
    [InlineData("Ada\u0000")]
    [InlineData("Ada\nLovelace")]
    [InlineData("Ada\u0085")] // a C1 control
    [InlineData("\u202EecalevoL adA")] // right-to-left override: reads reversed
    [InlineData("Ada\u2066x\u2069")] // bidi isolate
    public void A_display_name_with_control_characters_is_refused(string name)
    {
        Assert.Equal("must not contain control characters", ProfileRules.ValidateDisplayName(name));
    }

    [Theory]
    [InlineData("https://example.com/a.png")]
    [InlineData("http://example.com/a.png")]
    [InlineData("https://cdn.example.com:8443/a/b.png?x=1#frag")]
    [InlineData("https://例え.jp/a.png")]
    [InlineData("")]
    public void Absolute_http_and_https_avatar_urls_pass(string url)
    {
        Assert.Null(ProfileRules.ValidateAvatarUrl(url));
    }

    [Theory]
    [InlineData("ftp://example.com/a.png")]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:image/png;base64,AAAA")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/avatars/a.png")] // an absolute file path on Linux, not a web URL
    [InlineData("avatars/a.png")]
    [InlineData("https://")]
    [InlineData("example.com/a.png")]
    public void Other_avatar_urls_are_refused(string url)
    {
        Assert.Equal("must be an absolute http or https URL", ProfileRules.ValidateAvatarUrl(url));
    }

    [Theory]
    [InlineData(" https://example.com/a.png")]
    [InlineData("https://example.com/a.png\n")]
    [InlineData("https://example.com/a b.png")]
    public void An_avatar_url_with_spaces_or_controls_is_refused_rather_than_trimmed(string url)
    {
        Assert.Equal("must not contain spaces or control characters", ProfileRules.ValidateAvatarUrl(url));
    }

    [Fact]
    public void An_avatar_url_may_have_2048_characters_but_not_2049()
    {
        const string start = "https://example.com/";

        Assert.Null(ProfileRules.ValidateAvatarUrl(start + new string('a', 2048 - start.Length)));
        Assert.Equal(
            "must be at most 2048 characters long",
            ProfileRules.ValidateAvatarUrl(start + new string('a', 2049 - start.Length)));
    }

    [Fact]
    public void A_bio_may_have_500_characters_with_line_breaks_and_tabs()
    {
        Assert.Null(ProfileRules.ValidateBio(new string('b', 498) + "\r\n"));
        Assert.Null(ProfileRules.ValidateBio("Line one\n\tindented"));
        Assert.Equal("must be at most 500 characters long", ProfileRules.ValidateBio(new string('b', 501)));
    }

    [Theory]
    [InlineData("nul\u0000byte")] // PostgreSQL text cannot store it
    [InlineData("bell\u0007")]
    [InlineData("\u202Eevil")]
    public void A_bio_with_other_control_characters_is_refused(string bio)
    {
        Assert.Equal("must not contain control characters other than line breaks and tabs", ProfileRules.ValidateBio(bio));
    }

    [Theory]
    [InlineData("en")]
    [InlineData("en-GB")]
    [InlineData("EN-gb")] // BCP 47 is case-insensitive
    [InlineData("zh-Hant-TW")]
    [InlineData("sr-Latn-RS")]
    [InlineData("es-419")]
    [InlineData("de-DE-1996")]
    [InlineData("sl-rozaj-biske")]
    [InlineData("zh-yue-HK")] // extlang
    [InlineData("en-US-u-ca-gregory")]
    [InlineData("en-GB-x-ovasabi")]
    [InlineData("")]
    public void Well_formed_language_tags_pass(string locale)
    {
        Assert.Null(ProfileRules.ValidateLocale(locale));
    }

    [Theory]
    [InlineData("en_GB")]
    [InlineData("e")]
    [InlineData("en-")]
    [InlineData("-en")]
    [InlineData("en--GB")]
    [InlineData("en GB")]
    [InlineData("en-GB\n")] // a regex with $ would let this through
    [InlineData("123")]
    [InlineData("en-GB-GB")] // a second region
    [InlineData("\u212Ay")] // KELVIN SIGN, which case-insensitive matching would take for 'k'
    [InlineData("ｅｎ")]
    [InlineData("x-private")]
    [InlineData("en-US-u-ca-gregory-nu-latn-x-abcdefgh")] // 37 characters: longer than any real locale
    public void Malformed_language_tags_are_refused(string locale)
    {
        Assert.Equal("must be a BCP 47 language tag such as en, en-GB or zh-Hant-TW", ProfileRules.ValidateLocale(locale));
    }

    [Theory]
    [InlineData("Europe/Berlin")]
    [InlineData("America/Argentina/Buenos_Aires")]
    [InlineData("America/Port-au-Prince")]
    [InlineData("Asia/Kolkata")]
    [InlineData("Etc/GMT+5")]
    [InlineData("UTC")]
    [InlineData("")]
    public void Iana_time_zones_pass(string zone)
    {
        Assert.Null(ProfileRules.ValidateTimeZone(zone));
    }

    [Theory]
    [InlineData("europe/berlin")] // .NET would resolve it, but the stored spelling must be the real one
    [InlineData("W. Europe Standard Time")] // a Windows id
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("Local")]
    [InlineData("Europe/Berlin\n")]
    [InlineData("../../etc/passwd")]
    [InlineData("/usr/share/zoneinfo/Europe/Berlin")]
    [InlineData("Europe/../Europe/Berlin")]
    [InlineData("+01:00")]
    public void Other_time_zones_are_refused(string zone)
    {
        Assert.Equal("must be an IANA time zone such as Europe/Berlin", ProfileRules.ValidateTimeZone(zone));
    }

    [Fact]
    public void Custom_fields_may_have_50_top_level_keys_but_not_51()
    {
        Assert.Null(ProfileRules.ValidateCustomFields(UserMapping.Shape(FlatStruct(50))));
        Assert.Equal("must have at most 50 top-level keys", ProfileRules.ValidateCustomFields(UserMapping.Shape(FlatStruct(51))));
    }

    [Fact]
    public void Custom_fields_may_nest_five_levels_counting_the_object_itself()
    {
        Assert.Null(ProfileRules.ValidateCustomFields(UserMapping.Shape(Struct.Parser.ParseJson("""{"a":{"b":{"c":{"d":{"e":1}}}}}"""))));
        Assert.Equal(
            "must be nested at most 5 levels deep",
            ProfileRules.ValidateCustomFields(UserMapping.Shape(Struct.Parser.ParseJson("""{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}"""))));
    }

    [Fact]
    public void A_list_counts_as_a_level_of_nesting()
    {
        Assert.Null(ProfileRules.ValidateCustomFields(UserMapping.Shape(Struct.Parser.ParseJson("""{"a":{"b":{"c":[1, 2]}}}"""))));
        Assert.Null(ProfileRules.ValidateCustomFields(UserMapping.Shape(Struct.Parser.ParseJson("""{"a":[[[[1]]]]}"""))));
        Assert.Equal(
            "must be nested at most 5 levels deep",
            ProfileRules.ValidateCustomFields(UserMapping.Shape(Struct.Parser.ParseJson("""{"a":[[[[[1]]]]]}"""))));
        Assert.Equal(
            "must be nested at most 5 levels deep",
            ProfileRules.ValidateCustomFields(UserMapping.Shape(Struct.Parser.ParseJson("""{"a":[{"b":[{"c":{}}]}]}"""))));
    }

    [Fact]
    public void Custom_fields_may_be_16_KiB_of_json_but_not_a_byte_more()
    {
        Assert.Null(ProfileRules.ValidateCustomFields(UserMapping.Shape(StructOfJsonSize(16 * 1024))));
        Assert.Equal(
            "must be at most 16 KiB as JSON (is 16385 bytes)",
            ProfileRules.ValidateCustomFields(UserMapping.Shape(StructOfJsonSize(16 * 1024 + 1))));
    }

    [Fact]
    public void The_json_size_is_counted_in_utf8_bytes_not_characters()
    {
        // 9,000 characters, 18,000 bytes.
        var fields = new Struct { Fields = { ["note"] = Value.ForString(new string('é', 9000)) } };

        Assert.StartsWith("must be at most 16 KiB as JSON", ProfileRules.ValidateCustomFields(UserMapping.Shape(fields)));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Custom_fields_with_a_non_finite_number_are_refused(double number)
    {
        var fields = new Struct { Fields = { ["deep"] = Value.ForList(Value.ForNumber(1), Value.ForNumber(number)) } };

        Assert.Equal("must contain only finite numbers", ProfileRules.ValidateCustomFields(UserMapping.Shape(fields)));
    }

    [Fact]
    public void Custom_fields_with_a_value_of_no_kind_are_refused_instead_of_failing_to_format()
    {
        var fields = new Struct { Fields = { ["empty"] = new Value() } };

        Assert.Equal(
            "must not contain values without a kind (use null_value for null)",
            ProfileRules.ValidateCustomFields(UserMapping.Shape(fields)));
    }

    [Fact]
    public void Missing_custom_fields_are_fine()
    {
        Assert.Null(ProfileRules.ValidateCustomFields(UserMapping.Shape(null)));
        Assert.Null(ProfileRules.ValidateCustomFields(UserMapping.Shape(new Struct())));
    }

    private static Struct FlatStruct(int keys)
    {
        var fields = new Struct();
        for (var i = 0; i < keys; i++)
        {
            fields.Fields[$"key{i}"] = Value.ForBool(true);
        }
        return fields;
    }

    /// <summary>A struct whose JSON, as protobuf formats it, is exactly <paramref name="bytes"/> long (ASCII only).</summary>
    private static Struct StructOfJsonSize(int bytes)
    {
        var overhead = JsonFormatter.Default.Format(new Struct { Fields = { ["k"] = Value.ForString("") } }).Length;
        var fields = new Struct { Fields = { ["k"] = Value.ForString(new string('x', bytes - overhead)) } };
        Assert.Equal(bytes, JsonFormatter.Default.Format(fields).Length);
        return fields;
    }
}
