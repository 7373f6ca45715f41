using Ovasabi.User.Domain;
using Ovasabi.User.V1;

namespace Ovasabi.User.UnitTests;

public sealed class PreferenceRulesTests
{
    private static IReadOnlyList<ValidationProblem> Check(string category, params (string Key, string Value)[] values) =>
        PreferenceRules.Validate(category, values.ToDictionary(v => v.Key, v => v.Value));

    [Fact]
    public void The_categories_are_the_four_the_contract_names()
    {
        Assert.Equal(["notifications", "quiet_hours", "locale", "privacy"], PreferenceRules.Categories);
        Assert.Equal(["email", "sms", "push", "in_app"], PreferenceRules.KeysOf("notifications"));
        Assert.Empty(PreferenceRules.KeysOf("colours"));
    }

    [Fact]
    public void An_unknown_category_is_one_problem_on_the_category_field()
    {
        var problem = Assert.Single(Check("colours", ("theme", "dark")));

        Assert.Equal(new ValidationProblem("category", "must be one of notifications, quiet_hours, locale, privacy"), problem);
    }

    [Theory]
    [InlineData("notifications")]
    [InlineData("quiet_hours")]
    [InlineData("locale")]
    [InlineData("privacy")]
    public void An_empty_map_clears_any_category(string category)
    {
        Assert.Empty(Check(category));
    }

    [Fact]
    public void Notifications_take_true_or_false_per_channel_and_any_subset_of_channels()
    {
        Assert.Empty(Check("notifications", ("email", "true"), ("sms", "false"), ("push", "true"), ("in_app", "false")));
        Assert.Empty(Check("notifications", ("push", "false")));
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("True")] // exactly the JSON spelling
    [InlineData("1")]
    [InlineData("")]
    public void A_notification_value_other_than_true_or_false_is_refused(string value)
    {
        var problem = Assert.Single(Check("notifications", ("email", value)));

        Assert.Equal(new ValidationProblem("values.email", "must be true or false"), problem);
    }

    [Fact]
    public void An_unknown_key_is_a_problem_on_that_key_listing_the_known_ones()
    {
        var problem = Assert.Single(Check("notifications", ("email", "true"), ("fax", "true")));

        Assert.Equal(new ValidationProblem("values.fax", "is not a notifications setting (known: email, sms, push, in_app)"), problem);
    }

    [Fact]
    public void Quiet_hours_may_span_midnight_and_name_a_time_zone()
    {
        Assert.Empty(Check("quiet_hours", ("start", "22:30"), ("end", "07:00"), ("time_zone", "Europe/Berlin")));
        Assert.Empty(Check("quiet_hours", ("start", "00:00"), ("end", "23:59")));
    }

    [Theory]
    [InlineData("24:00")]
    [InlineData("7:00")]
    [InlineData("07:60")]
    [InlineData("07:00:00")]
    [InlineData("7pm")]
    [InlineData("٠٧:٠٠")] // Arabic-Indic digits, which \d would accept
    [InlineData("07:00\n")]
    public void A_quiet_hours_time_not_written_as_HH_mm_is_refused(string time)
    {
        var problem = Assert.Single(Check("quiet_hours", ("start", time), ("end", "07:30")));

        Assert.Equal(new ValidationProblem("values.start", "must be a 24-hour time as HH:mm, such as 22:30"), problem);
    }

    [Fact]
    public void Quiet_hours_need_both_start_and_end()
    {
        var problems = Check("quiet_hours", ("time_zone", "UTC"));

        Assert.Equal(
            [
                new ValidationProblem("values.start", "is required when quiet_hours is set"),
                new ValidationProblem("values.end", "is required when quiet_hours is set"),
            ],
            problems);
    }

    [Fact]
    public void Quiet_hours_that_start_when_they_end_are_refused()
    {
        var problem = Assert.Single(Check("quiet_hours", ("start", "08:00"), ("end", "08:00")));

        Assert.Equal(new ValidationProblem("values.end", "must differ from start"), problem);
    }

    [Fact]
    public void A_quiet_hours_time_zone_must_be_an_iana_id()
    {
        var problem = Assert.Single(Check("quiet_hours", ("start", "22:00"), ("end", "06:00"), ("time_zone", "CET+1")));

        Assert.Equal(new ValidationProblem("values.time_zone", "must be an IANA time zone such as Europe/Berlin"), problem);
    }

    [Theory]
    [InlineData("GB")]
    [InlineData("419")]
    public void Locale_takes_a_language_tag_and_an_optional_region(string region)
    {
        Assert.Empty(Check("locale", ("language", "en-GB")));
        Assert.Empty(Check("locale", ("language", "pt"), ("region", region)));
    }

    [Fact]
    public void Locale_refuses_a_malformed_language_or_region_and_needs_the_language()
    {
        Assert.Equal(
            [new ValidationProblem("values.language", "must be a BCP 47 language tag such as en, en-GB or zh-Hant-TW")],
            Check("locale", ("language", "en_GB")));
        Assert.Equal(
            [new ValidationProblem("values.region", "must be an ISO 3166-1 country code such as GB, or a UN M.49 area code such as 419")],
            Check("locale", ("language", "en"), ("region", "GBR")));
        Assert.Equal(
            [new ValidationProblem("values.language", "is required when locale is set")],
            Check("locale", ("region", "GB")));
    }

    [Theory]
    [InlineData("public")]
    [InlineData("users")]
    [InlineData("private")]
    public void Privacy_takes_a_profile_visibility_and_show_email(string visibility)
    {
        Assert.Empty(Check("privacy", ("profile_visibility", visibility), ("show_email", "false")));
    }

    [Fact]
    public void Privacy_refuses_other_visibilities()
    {
        var problem = Assert.Single(Check("privacy", ("profile_visibility", "friends")));

        Assert.Equal(new ValidationProblem("values.profile_visibility", "must be one of public, users, private"), problem);
    }

    [Fact]
    public void Several_problems_are_reported_together_in_key_order()
    {
        var problems = Check("privacy", ("show_email", "maybe"), ("colour", "red"), ("profile_visibility", "all"));

        Assert.Equal(["values.colour", "values.profile_visibility", "values.show_email"], problems.Select(p => p.Field));
    }

    [Fact]
    public void The_request_map_from_the_contract_can_be_validated_directly()
    {
        var request = new SetPreferencesRequest { Category = "privacy", Values = { ["show_email"] = "maybe" } };

        var problem = Assert.Single(PreferenceRules.Validate(request.Category, request.Values));

        Assert.Equal("values.show_email", problem.Field);
    }
}
