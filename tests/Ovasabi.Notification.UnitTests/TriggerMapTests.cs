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
