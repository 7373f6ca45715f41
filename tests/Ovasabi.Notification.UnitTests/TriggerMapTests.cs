using Ovasabi.Contracts;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Notification.Domain;
using Ovasabi.User.V1.Events;

namespace Ovasabi.Notification.UnitTests;

public sealed class TriggerMapTests
{
    private static readonly Guid Alice = Guid.Parse("0b9c6f1e-0000-4000-8000-000000000001");
    private static readonly Guid Bob = Guid.Parse("0b9c6f1e-0000-4000-8000-000000000002");
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 30, 0, TimeSpan.Zero);

    private static readonly string TransferTopic = TopicName.Of(FinanceTopic.TransferCompleted);
    private static readonly string DepositTopic = TopicName.Of(FinanceTopic.DepositCompleted);

    private static Movement Transfer() => new("tx-1", Alice, Bob, new Amount("25.00", "EUR"), At);

    [Fact]
    public void A_transfer_notifies_the_sender_and_the_receiver_of_one_fact_each_naming_the_other()
    {
        var notices = TriggerMap.Transfer(TransferTopic, Transfer(), id => id == Alice ? "alice" : "bob");

        Assert.Equal([("finance.transfer_sent", Alice, "bob"), ("finance.transfer_received", Bob, "alice")],
            notices.Select(n => (n.NotificationKey, n.Recipient, (string)((IReadOnlyDictionary<string, object?>)n.Data["counterparty"]!)["name"]!)));
        Assert.All(notices, n => Assert.Equal($"{TransferTopic}:tx-1", n.SourceKey));
        Assert.All(notices, n => Assert.Equal(Category.Transactions, n.Category));
    }

    [Fact]
    public void A_counterparty_whose_name_cannot_be_found_is_another_user()
    {
        var notices = TriggerMap.Transfer(TransferTopic, Transfer(), _ => null);

        Assert.All(notices, n => Assert.Equal(TriggerMap.UnknownName, ((IReadOnlyDictionary<string, object?>)n.Data["counterparty"]!)["name"]));
    }

    [Fact]
    public void A_deposit_is_keyed_by_its_transaction_and_a_welcome_by_its_user()
    {
        var welcomeTopic = TopicName.Of(UserTopic.UserCreated);

        Assert.Equal($"{DepositTopic}:tx-1", TriggerMap.Deposit(DepositTopic, Transfer() with { CounterpartyUserId = null }).SourceKey);
        Assert.Equal($"{welcomeTopic}:{Alice}", TriggerMap.Welcome(welcomeTopic, Alice, "alice").SourceKey);
    }

    [Fact]
    public void A_low_balance_is_critical_and_keyed_by_its_event_id()
    {
        var topic = TopicName.Of(FinanceTopic.BalanceLow);

        var notice = TriggerMap.BalanceLow(topic, "event-7", Alice, new Amount("3.00", "EUR"), new Amount("10.00", "EUR"));

        Assert.True(notice.Category.Critical);
        Assert.Equal($"{topic}:event-7", notice.SourceKey);
    }
}

public sealed class SignInAddressesTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData(" 203.0.113.7 ", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64")]
    [InlineData("", null)]
    [InlineData("not an address", null)]
    public void An_address_is_remembered_as_itself_or_by_its_ipv6_64(string address, string? remembered)
    {
        Assert.Equal(remembered, SignInAddresses.Normalize(address));
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, true, false)]
    [InlineData(true, false, true)]
    public void Only_a_new_address_of_a_user_who_signed_in_before_is_news(bool knewAny, bool knewThis, bool news)
    {
        Assert.Equal(news, SignInAddresses.IsNews(knewAny, knewThis));
    }

    [Fact]
    public void Security_notices_are_critical_and_a_new_sign_in_is_keyed_by_its_session()
    {
        var topic = TopicName.Of(Ovasabi.Auth.V1.Events.AuthTopic.LoginSucceeded);
        var notice = TriggerMap.NewSignIn(topic, "session-1", Guid.NewGuid(), "203.0.113.7", DateTimeOffset.UnixEpoch);

        Assert.Equal(($"{topic}:session-1", true), (notice.SourceKey, notice.Category.Critical));
        Assert.True(TriggerMap.PasswordChanged(TopicName.Of(UserTopic.PasswordChanged), "e", Guid.NewGuid(), DateTimeOffset.UnixEpoch).Category.Critical);
    }
}
