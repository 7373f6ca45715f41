namespace Ovasabi.Notification.Domain;

/// <summary>
/// What a notification is about; critical ones (a low balance, a security alert) cannot be muted. Only sendable ones
/// may be sent with Send: the others report facts of the platform and come only from its events.
/// </summary>
public sealed record Category(string Name, bool Critical, bool Sendable = false)
{
    public static readonly Category Account = new("account", false);
    public static readonly Category Transactions = new("transactions", false);
    public static readonly Category BalanceAlerts = new("balance_alerts", true);
    public static readonly Category Security = new("security", true);
    public static readonly Category Announcements = new("announcements", false, Sendable: true);

    public static readonly IReadOnlyList<Category> All = [Account, Transactions, BalanceAlerts, Security, Announcements];

    public static Category? Named(string name) => All.FirstOrDefault(c => c.Name == name);
}

/// <summary>An amount as the finance service states it: the decimal in major units and the ISO 4217 code.</summary>
public sealed record Amount(string Decimal, string Currency)
{
    public override string ToString() => $"{Decimal} {Currency}";
}

/// <summary>A money movement the finance service completed (a deposit, or a transfer from <see cref="UserId"/> to the counterparty).</summary>
public sealed record Movement(string TransactionId, Guid UserId, Guid? CounterpartyUserId, Amount Amount, DateTimeOffset OccurredAt);

/// <summary>
/// One message to make: which notification, for whom, about what, and the facts its template renders.
/// <see cref="SourceKey"/> names the fact it reports (<c>&lt;topic&gt;:&lt;natural id&gt;</c>): one fact makes at most
/// one message per recipient and channel, however often its event arrives.
/// </summary>
public sealed record Notice(string NotificationKey, Category Category, Guid Recipient, string SourceKey, IReadOnlyDictionary<string, object?> Data)
{
    /// <summary>The digest its email waits in, if any.</summary>
    public DigestGroup? Digest { get; init; }
}

/// <summary>Emails of one key for one user gathered within <see cref="Window"/> from the first, then sent as one.</summary>
public sealed record DigestGroup(string Key, TimeSpan Window);

/// <summary>Which platform events notify whom, with what (issue 14's trigger table).</summary>
public static class TriggerMap
{
    /// <summary>Shown for a user whose name cannot be found (deleted meanwhile).</summary>
    public const string UnknownName = "another user";

    public static Notice Welcome(string topic, Guid userId, string username) =>
        new("account.welcome", Category.Account, userId, $"{topic}:{userId}", new Dictionary<string, object?>
        {
            ["user"] = new Dictionary<string, object?> { ["name"] = username },
        });

    public static Notice Deposit(string topic, Movement deposit) =>
        new("finance.deposit_completed", Category.Transactions, deposit.UserId, $"{topic}:{deposit.TransactionId}", MovementData(deposit, null));

    /// <summary>The sender hears that the money left, the receiver that it arrived; each sees the other's name.</summary>
    public static IReadOnlyList<Notice> Transfer(string topic, Movement transfer, Func<Guid, string?> names)
    {
        var receiver = transfer.CounterpartyUserId ?? throw new ArgumentException("a transfer names its counterparty", nameof(transfer));
        var source = $"{topic}:{transfer.TransactionId}";
        return
        [
            new("finance.transfer_sent", Category.Transactions, transfer.UserId, source, MovementData(transfer, names(receiver) ?? UnknownName)),
            new("finance.transfer_received", Category.Transactions, receiver, source, MovementData(transfer, names(transfer.UserId) ?? UnknownName)),
        ];
    }

    /// <summary>A balance alert has no natural id: each event is its own fact.</summary>
    public static Notice BalanceLow(string topic, string eventId, Guid userId, Amount available, Amount threshold) =>
        new("finance.balance_low", Category.BalanceAlerts, userId, $"{topic}:{eventId}", new Dictionary<string, object?>
        {
            ["available"] = available.ToString(),
            ["threshold"] = threshold.ToString(),
        });

    /// <summary>A changed password is each its own fact (no natural id).</summary>
    public static Notice PasswordChanged(string topic, string eventId, Guid userId, DateTimeOffset at) =>
        new("security.password_changed", Category.Security, userId, $"{topic}:{eventId}", new Dictionary<string, object?> { ["occurred_at"] = When(at) });

    /// <summary>A sign-in from an address the user had not signed in from (see <see cref="SignInAddresses"/>); keyed by its session.</summary>
    public static Notice NewSignIn(string topic, string sessionId, Guid userId, string address, DateTimeOffset at) =>
        new("security.new_sign_in", Category.Security, userId, $"{topic}:{sessionId}", new Dictionary<string, object?>
        {
            ["address"] = address,
            ["occurred_at"] = When(at),
        });

    private static string When(DateTimeOffset at) => at.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    private static Dictionary<string, object?> MovementData(Movement movement, string? counterpartyName)
    {
        var data = new Dictionary<string, object?>
        {
            ["amount"] = movement.Amount.ToString(),
            ["transaction"] = new Dictionary<string, object?> { ["id"] = movement.TransactionId },
            ["occurred_at"] = When(movement.OccurredAt),
        };
        if (counterpartyName is not null)
        {
            data["counterparty"] = new Dictionary<string, object?> { ["name"] = counterpartyName };
        }
        return data;
    }
}

/// <summary>
/// When a sign-in is news: the user signed in before, and never from this address. The first address is learnt
/// silently; IPv6 addresses count by their /64 (one household or phone network hands out many).
/// </summary>
public static class SignInAddresses
{
    /// <summary>The address as it is remembered, or null for one that is empty or not an IP address.</summary>
    public static string? Normalize(string address)
    {
        if (!System.Net.IPAddress.TryParse(address.Trim(), out var ip))
        {
            return null;
        }
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return ip.ToString();
        }
        var bytes = ip.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new System.Net.IPAddress(bytes).ToString() + "/64";
    }

    public static bool IsNews(bool knewAny, bool knewThis) => knewAny && !knewThis;
}
