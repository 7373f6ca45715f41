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
    [InlineData("nonsense", "category: must be one of account, transactions, balance_alerts, or empty")]
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
