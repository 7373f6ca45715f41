using Ovasabi.Auth.V1;
using Ovasabi.Auth.V1.Events;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Notification.Data;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.Grpc;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;

namespace Ovasabi.Notification.Events;

/// <summary>
/// The platform events that notify users (<see cref="TriggerMap"/>), handled inside the inbox transaction: a
/// redelivered event is skipped by the inbox, and the same fact under another event id by the messages' unique key.
/// A recipient that no longer exists gets nothing; a payload that names no valid user is dropped.
/// </summary>
public sealed class TriggerHandlers(Admission admission, Recipients recipients, KnownAddresses addresses) :
    IEventHandler<UserCreated>, IEventHandler<MovementCompleted>, IEventHandler<BalanceLow>, IEventHandler<PasswordChanged>, IEventHandler<LoginSucceeded>
{
    public static readonly string UserCreatedTopic = TopicName.Of(UserTopic.UserCreated);
    public static readonly string DepositCompletedTopic = TopicName.Of(FinanceTopic.DepositCompleted);
    public static readonly string TransferCompletedTopic = TopicName.Of(FinanceTopic.TransferCompleted);
    public static readonly string BalanceLowTopic = TopicName.Of(FinanceTopic.BalanceLow);
    public static readonly string PasswordChangedTopic = TopicName.Of(UserTopic.PasswordChanged);
    public static readonly string LoginSucceededTopic = TopicName.Of(AuthTopic.LoginSucceeded);

    public Task HandleAsync(UserCreated message, EventContext context, CancellationToken cancellationToken) =>
        AdmitAsync([TriggerMap.Welcome(context.Topic, UserId("user_id", message.UserId), message.Username)], null, cancellationToken);

    public async Task HandleAsync(MovementCompleted message, EventContext context, CancellationToken cancellationToken)
    {
        var movement = new Movement(message.TransactionId, UserId("user_id", message.UserId),
            message.CounterpartyUserId.Length > 0 ? UserId("counterparty_user_id", message.CounterpartyUserId) : null,
            new Amount(message.Amount?.DecimalAmount ?? "", message.Amount?.CurrencyCode ?? ""), message.OccurredAt?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch);
        if (context.Topic == DepositCompletedTopic)
        {
            await AdmitAsync([TriggerMap.Deposit(context.Topic, movement)], null, cancellationToken);
            return;
        }
        if (movement.CounterpartyUserId is not { } counterparty)
        {
            throw new InvalidArgumentException("counterparty_user_id", "is required for a transfer");
        }
        var people = await FindAsync([movement.UserId, counterparty], cancellationToken);
        await AdmitAsync(TriggerMap.Transfer(context.Topic, movement, id => people.GetValueOrDefault(id)?.Name), people, cancellationToken);
    }

    public Task HandleAsync(BalanceLow message, EventContext context, CancellationToken cancellationToken) =>
        AdmitAsync([TriggerMap.BalanceLow(context.Topic, context.Id, UserId("user_id", message.UserId),
            new Amount(message.Available?.DecimalAmount ?? "", message.Available?.CurrencyCode ?? ""),
            new Amount(message.Threshold?.DecimalAmount ?? "", message.Threshold?.CurrencyCode ?? ""))], null, cancellationToken);

    public Task HandleAsync(PasswordChanged message, EventContext context, CancellationToken cancellationToken) =>
        AdmitAsync([TriggerMap.PasswordChanged(context.Topic, context.Id, UserId("user_id", message.UserId), message.OccurredAt?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch)],
            null, cancellationToken);

    /// <summary>Alerts only for a new address of a user who signed in before; the first address is learnt silently.</summary>
    public async Task HandleAsync(LoginSucceeded message, EventContext context, CancellationToken cancellationToken)
    {
        var user = UserId("user_id", message.UserId);
        if (SignInAddresses.Normalize(message.ClientAddress) is not { } address)
        {
            return;
        }
        var (knewAny, knewThis) = await addresses.RecordAsync(user, address, cancellationToken);
        if (SignInAddresses.IsNews(knewAny, knewThis))
        {
            await AdmitAsync([TriggerMap.NewSignIn(context.Topic, message.SessionId, user, message.ClientAddress.Trim(), message.OccurredAt?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch)],
                null, cancellationToken);
        }
    }

    /// <summary>Writes the notices of recipients who still exist, each in their language.</summary>
    private async Task AdmitAsync(IReadOnlyList<Notice> notices, Dictionary<Guid, Recipient?>? known, CancellationToken cancellationToken)
    {
        var people = known ?? await FindAsync(notices.Select(n => n.Recipient), cancellationToken);
        await admission.AdmitAsync(notices.Where(n => people.GetValueOrDefault(n.Recipient) is not null)
            .Select(n => (n, people[n.Recipient]!.To)), cancellationToken);
    }

    private async Task<Dictionary<Guid, Recipient?>> FindAsync(IEnumerable<Guid> ids, CancellationToken cancellationToken)
    {
        var people = new Dictionary<Guid, Recipient?>();
        foreach (var id in ids.Distinct())
        {
            people[id] = await recipients.FindAsync(id, cancellationToken);
        }
        return people;
    }

    private static Guid UserId(string field, string value) =>
        Guid.TryParse(value, out var id) ? id : throw new InvalidArgumentException(field, "is not a user id");
}
