using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.UnitTests;

public sealed class InboxRulesTests
{
    private static string Problems(Action<Validator> check)
    {
        var validator = new Validator();
        check(validator);
        return validator.IsValid ? "" : Assert.Throws<InvalidArgumentException>(validator.ThrowIfInvalid).Message;
    }

    [Theory]
    [InlineData(0, 20, "")]
    [InlineData(1, 1, "")]
    [InlineData(100, 100, "")]
    [InlineData(101, 101, "size: must be between 1 and 100 (0 for 20)")]
    [InlineData(-1, -1, "size: must be between 1 and 100 (0 for 20)")]
    public void A_page_size_of_zero_is_the_default_and_above_100_is_refused(int requested, int size, string problem)
    {
        var got = 0;
        Assert.Equal(problem, Problems(v => got = InboxRules.PageSize(v, "size", requested)));
        Assert.Equal(size, got);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("transactions", "")]
    [InlineData("nonsense", "category: must be one of account, transactions, balance_alerts, security, announcements, or empty")]
    public void A_category_is_empty_or_known(string category, string problem)
    {
        Assert.Equal(problem, Problems(v => InboxRules.Category(v, "category", category)));
    }

    [Fact]
    public void Message_ids_are_1_to_100_uuids_and_repeats_count_once()
    {
        var id = Guid.NewGuid().ToString();
        IReadOnlyList<Guid> ids = [];

        Assert.Equal("", Problems(v => ids = InboxRules.MessageIds(v, "ids", [id, id])));
        Assert.Single(ids);
        Assert.Equal("ids: must list 1 to 100 message ids", Problems(v => InboxRules.MessageIds(v, "ids", [])));
        Assert.Equal("ids: must list 1 to 100 message ids", Problems(v => InboxRules.MessageIds(v, "ids", Enumerable.Range(0, 101).Select(_ => id).ToList())));
        Assert.StartsWith("ids[1]: ", Problems(v => InboxRules.MessageIds(v, "ids", [id, "not-a-uuid"])), StringComparison.Ordinal);
    }
}

public sealed class SendRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static string Problems(Action<Validator> check)
    {
        var validator = new Validator();
        check(validator);
        return validator.IsValid ? "" : Assert.Throws<InvalidArgumentException>(validator.ThrowIfInvalid).Message;
    }

    [Theory]
    [InlineData(null, "2026-12-07T12:00:00Z", "")]
    [InlineData("2026-12-07T11:56:00Z", "2026-12-07T12:00:00Z", "")]
    [InlineData("2026-12-07T13:00:00Z", "2026-12-07T13:00:00Z", "")]
    [InlineData("2027-01-06T12:00:00Z", "2027-01-06T12:00:00Z", "")]
    [InlineData("2026-12-07T11:54:59Z", "2026-12-07T12:00:00Z", "at: must be at most 5 minutes in the past and 30 days ahead")]
    [InlineData("2027-01-06T12:00:01Z", "2027-01-06T12:00:01Z", "at: must be at most 5 minutes in the past and 30 days ahead")]
    public void A_send_time_is_now_when_unset_or_slightly_past_and_at_most_30_days_ahead(string? sendAt, string due, string problem)
    {
        var at = sendAt is null ? (DateTimeOffset?)null : DateTimeOffset.Parse(sendAt, System.Globalization.CultureInfo.InvariantCulture);
        var got = DateTimeOffset.MinValue;

        Assert.Equal(problem, Problems(v => got = SendRules.Due(v, "at", at, Now)));
        Assert.Equal(DateTimeOffset.Parse(due, System.Globalization.CultureInfo.InvariantCulture), got);
    }

    [Fact]
    public void Every_variable_of_the_template_must_be_given()
    {
        var required = TemplateCatalog.LoadEmbedded().Variables("platform.announcement");

        Assert.Equal(["body", "title"], required);
        Assert.Equal("data.body: is required by the notification's template", Problems(v => SendRules.Data(v, "data", new HashSet<string> { "title" }, required)));
        Assert.Equal("", Problems(v => SendRules.Data(v, "data", new HashSet<string> { "title", "body", "extra" }, required)));
    }

    [Fact]
    public void Only_announcements_may_be_sent_and_they_are_not_critical()
    {
        Assert.Equal(["platform.announcement"], SendRules.Sendable.Keys);
        Assert.All(SendRules.Sendable.Values, c => Assert.False(c.Critical));
        Assert.All(Category.All.Where(c => c.Sendable), c => Assert.Contains(c, SendRules.Sendable.Values));
    }
}
