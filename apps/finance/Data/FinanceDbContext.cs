using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Ovasabi.Finance.Domain;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.Finance.Data;

/// <summary>
/// A ledger account in one currency. A user account's balances are kept on its row (locked while a posting changes
/// them); the platform's accounts (external, revenue) are never locked, so they are no hot spot, and their balance is
/// the sum of their entries.
/// </summary>
public sealed class Account : IClientRecord
{
    public long Id { get; set; }

    public long MasterId { get; set; }

    public required MasterRecord Master { get; set; }

    public AccountKind Kind { get; set; }

    /// <summary>The owner of a user account; null for the platform's accounts.</summary>
    public Guid? UserId { get; set; }

    public required string Currency { get; set; }

    /// <summary>Minor units the user can spend; never negative.</summary>
    public long Available { get; set; }

    /// <summary>Minor units set aside by holds; never negative.</summary>
    public long Held { get; set; }

    /// <summary>Increases with every posting; orders cached balances, so a cache never goes back in time.</summary>
    public long Version { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The UTC day <see cref="SentTotal"/> counts; null before the user first sent money away.</summary>
    public DateOnly? SentOn { get; set; }

    /// <summary>
    /// Minor units withdrawn and transferred out on <see cref="SentOn"/> and not reversed: the daily limit's running
    /// total, changed under the row's lock with the balances.
    /// </summary>
    public long SentTotal { get; set; }

    public string Metadata { get; set; } = "{}";
}

/// <summary>
/// One money movement (its <c>master</c> row holds the transaction ID), with the idempotency key it was asked under
/// and the answer it got, so a retry gets that answer again.
/// </summary>
public sealed class LedgerTransaction : IClientRecord
{
    public long Id { get; set; }

    public long MasterId { get; set; }

    public required MasterRecord Master { get; set; }

    public TransactionKind Type { get; set; }

    public TransactionState Status { get; set; }

    public Guid UserId { get; set; }

    public Guid? CounterpartyUserId { get; set; }

    public required string Currency { get; set; }

    /// <summary>Positive minor units.</summary>
    public long Amount { get; set; }

    public long? RelatedTransactionId { get; set; }

    public LedgerTransaction? Related { get; set; }

    /// <summary>Who may replay the key: the caller that used it (<c>user:&lt;id&gt;</c>, <c>service:&lt;app-id&gt;</c>).</summary>
    public required string IdempotencyScope { get; set; }

    public required string IdempotencyKey { get; set; }

    /// <summary>SHA-256 of the RPC and its request, to tell a retry from another request under the same key.</summary>
    public required byte[] RequestHash { get; set; }

    /// <summary>The response as first sent (protobuf), returned to every retry.</summary>
    public byte[] Result { get; set; } = [];

    public string Description { get; set; } = "";

    public required string Actor { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string Metadata { get; set; } = "{}";
}

/// <summary>One line of a posting; the entries of a transaction sum to zero (checked by the database at commit).</summary>
public sealed class LedgerEntry
{
    public long Id { get; set; }

    public long TransactionId { get; set; }

    public LedgerTransaction? Transaction { get; set; }

    public long AccountId { get; set; }

    public Bucket Bucket { get; set; }

    /// <summary>Signed minor units: positive credits the account bucket, negative debits it.</summary>
    public long Amount { get; set; }

    public required string Currency { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An immutable record of a change (the database refuses updates and deletes): who, what, before and after.</summary>
public sealed class AuditRecord
{
    public long Id { get; set; }

    public long? TransactionId { get; set; }

    public LedgerTransaction? Transaction { get; set; }

    public required string Actor { get; set; }

    /// <summary>deposit, withdrawal, transfer, hold, release, capture, reversal.</summary>
    public required string Action { get; set; }

    /// <summary>The balances and statuses the change touched, as JSON, before and after it.</summary>
    public required string Before { get; set; }

    public required string After { get; set; }

    public string? RequestId { get; set; }

    public string? TraceId { get; set; }

    public DateTimeOffset OccurredAt { get; set; }
}

public sealed class FinanceDbContext(DbContextOptions<FinanceDbContext> options) : ServiceDbContext(options)
{
    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<LedgerTransaction> Transactions => Set<LedgerTransaction>();

    public DbSet<LedgerEntry> Entries => Set<LedgerEntry>();

    public DbSet<AuditRecord> Audit => Set<AuditRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<Account>(account =>
        {
            account.ToClientTable("service_finance_account");
            account.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
            account.Property(a => a.Metadata).HasColumnType("jsonb");
            account.HasIndex(a => new { a.UserId, a.Currency }).IsUnique().HasFilter("kind = 0");
            account.HasIndex(a => new { a.Kind, a.Currency }).IsUnique().HasFilter("kind <> 0");
            account.ToTable(t => t.HasCheckConstraint("ck_service_finance_account_not_negative", "kind <> 0 OR (available >= 0 AND held >= 0)"));
        });
        modelBuilder.Entity<LedgerTransaction>(transaction =>
        {
            transaction.ToClientTable("service_finance_transaction");
            transaction.Property(t => t.Currency).HasMaxLength(3).IsFixedLength();
            transaction.Property(t => t.IdempotencyScope).HasMaxLength(128);
            transaction.Property(t => t.IdempotencyKey).HasMaxLength(128);
            transaction.Property(t => t.Description).HasMaxLength(500);
            transaction.Property(t => t.Actor).HasMaxLength(128);
            transaction.Property(t => t.Metadata).HasColumnType("jsonb");
            transaction.HasIndex(t => new { t.IdempotencyScope, t.IdempotencyKey }).IsUnique();
            transaction.HasOne(t => t.Related).WithMany().HasForeignKey(t => t.RelatedTransactionId).OnDelete(DeleteBehavior.Restrict);
            // History is read per user, newest first, as sender and as receiver.
            transaction.HasIndex(t => new { t.UserId, t.CreatedAt, t.Id });
            transaction.HasIndex(t => new { t.CounterpartyUserId, t.CreatedAt, t.Id }).HasFilter("counterparty_user_id IS NOT NULL");
            transaction.ToTable(t => t.HasCheckConstraint("ck_service_finance_transaction_amount_positive", "amount > 0"));
        });
        modelBuilder.Entity<LedgerEntry>(entry =>
        {
            entry.ToTable("service_finance_entry");
            entry.HasKey(e => e.Id);
            entry.Property(e => e.Id).UseIdentityAlwaysColumn();
            entry.Property(e => e.Currency).HasMaxLength(3).IsFixedLength();
            entry.HasOne(e => e.Transaction).WithMany().HasForeignKey(e => e.TransactionId).OnDelete(DeleteBehavior.Restrict);
            entry.HasOne<Account>().WithMany().HasForeignKey(e => e.AccountId).OnDelete(DeleteBehavior.Restrict);
            // Statements sum an account's entries before a point in time.
            entry.HasIndex(e => new { e.AccountId, e.CreatedAt });
            entry.HasIndex(e => e.TransactionId);
            entry.ToTable(t => t.HasCheckConstraint("ck_service_finance_entry_amount_not_zero", "amount <> 0"));
        });
        modelBuilder.Entity<AuditRecord>(audit =>
        {
            audit.ToTable("service_finance_audit");
            audit.HasKey(a => a.Id);
            audit.Property(a => a.Id).UseIdentityAlwaysColumn();
            audit.Property(a => a.Actor).HasMaxLength(128);
            audit.Property(a => a.Action).HasMaxLength(32);
            audit.Property(a => a.Before).HasColumnType("jsonb");
            audit.Property(a => a.After).HasColumnType("jsonb");
            audit.Property(a => a.RequestId).HasMaxLength(128);
            audit.Property(a => a.TraceId).HasMaxLength(32);
            audit.HasOne(a => a.Transaction).WithMany().HasForeignKey(a => a.TransactionId).OnDelete(DeleteBehavior.Restrict);
            audit.HasIndex(a => a.TransactionId);
            audit.HasIndex(a => a.OccurredAt);
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without the app's configuration.</summary>
public sealed class FinanceDbContextFactory : IDesignTimeDbContextFactory<FinanceDbContext>
{
    public FinanceDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<FinanceDbContext>().UseNpgsql("Host=localhost").UseSnakeCaseNamingConvention().Options);
}
