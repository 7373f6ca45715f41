using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Finance.Domain;

/// <summary>One side of an entry: a bucket of a user's account, or a platform account.</summary>
public readonly record struct Party(AccountKind Kind, Guid? UserId, Bucket Bucket)
{
    public static Party External { get; } = new(AccountKind.External, null, Bucket.Available);

    public static Party Revenue { get; } = new(AccountKind.Revenue, null, Bucket.Available);

    public static Party User(Guid userId, Bucket bucket) => new(AccountKind.User, userId, bucket);
}

/// <summary>One line of a posting: signed minor units for a party (positive credits it, negative debits it).</summary>
public readonly record struct Entry(Party Party, long Amount);

/// <summary>A user account's two balances in minor units.</summary>
public readonly record struct Balances(long Available, long Held);

/// <summary>
/// A posting in progress over the user accounts it locked: every move writes two entries that sum to zero, and no
/// move may leave a user's available or held balance negative. The platform's accounts (external, revenue) have no
/// balance to protect. What it ends with is what the store writes.
/// </summary>
public sealed class Book
{
    private readonly Dictionary<Guid, Balances> _before;
    private readonly Dictionary<Guid, Balances> _after;
    private readonly List<Entry> _entries = [];

    public Book(Currency currency, IReadOnlyDictionary<Guid, Balances> accounts)
    {
        Currency = currency;
        _before = new Dictionary<Guid, Balances>(accounts);
        _after = new Dictionary<Guid, Balances>(accounts);
    }

    public Currency Currency { get; }

    public IReadOnlyList<Entry> Entries => _entries;

    public IReadOnlyDictionary<Guid, Balances> Before => _before;

    public IReadOnlyDictionary<Guid, Balances> After => _after;

    /// <summary>Money coming into the platform: external → the user's available balance.</summary>
    public void FromOutside(Guid userId, long amount) => Move(Party.External, Party.User(userId, Bucket.Available), amount);

    /// <summary>Money leaving the platform: the user's available balance → external.</summary>
    public void ToOutside(Guid userId, long amount) => Move(Party.User(userId, Bucket.Available), Party.External, amount);

    /// <summary>Between users' accounts, or between the buckets of one account (a hold, a release).</summary>
    public void Between(Guid from, Bucket fromBucket, Guid to, Bucket toBucket, long amount) =>
        Move(Party.User(from, fromBucket), Party.User(to, toBucket), amount);

    /// <summary>Held money the platform takes: the user's held balance → revenue.</summary>
    public void ToRevenue(Guid userId, long amount) => Move(Party.User(userId, Bucket.Held), Party.Revenue, amount);

    /// <summary>The users whose available balance fell below the currency's low-balance threshold with this posting.</summary>
    public IEnumerable<Guid> FellBelowThreshold()
    {
        var threshold = Currency.LowBalanceThreshold;
        return threshold <= 0 ? [] : _after.Keys.Where(user => _before[user].Available >= threshold && _after[user].Available < threshold);
    }

    public bool Changed(Guid userId) => _before[userId] != _after[userId];

    private void Move(Party from, Party to, long amount)
    {
        if (amount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "a move carries a positive amount");
        }
        if (from.UserId is { } source)
        {
            var balance = Balance(source, from.Bucket);
            if (balance < amount)
            {
                throw from.Bucket == Bucket.Available
                    ? new FailedPreconditionException($"insufficient funds: {Currency.Format(balance)} {Currency.Code} available, {Currency.Format(amount)} needed", "INSUFFICIENT_FUNDS")
                    : new FailedPreconditionException($"only {Currency.Format(balance)} {Currency.Code} held", "INSUFFICIENT_HELD_FUNDS");
            }
            Add(source, from.Bucket, -amount);
        }
        if (to.UserId is { } target)
        {
            Add(target, to.Bucket, amount);
        }
        _entries.Add(new Entry(from, -amount));
        _entries.Add(new Entry(to, amount));
    }

    private long Balance(Guid userId, Bucket bucket) => bucket == Bucket.Available ? Account(userId).Available : Account(userId).Held;

    private Balances Account(Guid userId) =>
        _after.TryGetValue(userId, out var balances) ? balances
            : throw new InvalidOperationException($"account of user {userId} is not part of this posting");

    private void Add(Guid userId, Bucket bucket, long amount)
    {
        var balances = Account(userId);
        _after[userId] = bucket == Bucket.Available ? balances with { Available = checked(balances.Available + amount) }
            : balances with { Held = checked(balances.Held + amount) };
    }
}
