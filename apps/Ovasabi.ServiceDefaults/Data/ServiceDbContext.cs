using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.DependencyInjection;

namespace Ovasabi.ServiceDefaults.Data;

/// <summary>
/// An entity every service registers in <c>master</c>: what all entities share (UUID, type, name, version for
/// optimistic concurrency, active flag, timestamps). Service tables (<c>service_&lt;name&gt;</c>) reference it.
/// </summary>
public sealed class MasterRecord
{
    public long Id { get; set; }

    public Guid Uuid { get; set; } = Guid.CreateVersion7();

    public required string Type { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>Increases with every change; a concurrency token, so concurrent writers cannot both succeed.</summary>
    public long Version { get; set; } = 1;

    public bool IsActive { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// The service's event log, which is also its transactional outbox: a row is written in the same transaction as the
/// change it describes, and the dispatcher publishes it (CloudEvent id = <see cref="Id"/>) and stamps PublishedAt.
/// </summary>
public sealed class ServiceEvent
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    /// <summary>The entity it is about; null once that entity was erased.</summary>
    public long? MasterId { get; set; }

    public MasterRecord? Master { get; set; }

    /// <summary>The topic, <c>&lt;service&gt;.&lt;entity&gt;.&lt;event&gt;</c>.</summary>
    public required string EventType { get; set; }

    /// <summary>The event message as protobuf JSON.</summary>
    public required string Payload { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    public DateTimeOffset? PublishedAt { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset? NextAttemptAt { get; set; }

    public string? LastError { get; set; }
}

/// <summary>The inbox: CloudEvent ids a consumer has handled, so a redelivered event is handled once.</summary>
public sealed class ProcessedMessage
{
    /// <summary>The longest CloudEvent id (and topic) the inbox records; longer ids cannot be de-duplicated.</summary>
    public const int MaxIdLength = 128;

    public required string MessageId { get; set; }

    public required string Consumer { get; set; }

    public DateTimeOffset ProcessedAt { get; set; }
}

/// <summary>
/// The base of every service's EF Core context: <c>master</c>, <c>service_event</c> and <c>processed_message</c> in
/// snake_case, timestamps maintained on save. A service adds its <c>service_&lt;name&gt;</c> tables.
/// </summary>
public abstract class ServiceDbContext : DbContext
{
    // Contexts are pooled (ServiceHosting): the constructor runs once per pooled instance, and must stay cheap.
    protected ServiceDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<MasterRecord> Masters => Set<MasterRecord>();

    public DbSet<ServiceEvent> ServiceEvents => Set<ServiceEvent>();

    public DbSet<ProcessedMessage> ProcessedMessages => Set<ProcessedMessage>();

    /// <summary>The app's clock (the design-time factory has no app services, so the system clock there).</summary>
    private TimeProvider Clock => this.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider?.GetService<TimeProvider>()
                                  ?? TimeProvider.System;

    /// <summary>
    /// Runs <paramref name="callback"/> once what this unit of work wrote is committed (after the open transaction
    /// commits, never if it rolls back; after the next SaveChanges when none is open). For nudging in-process workers.
    /// </summary>
    public void AfterCommit(Action callback) =>
        (this.GetService<IDbContextOptions>().FindExtension<Microsoft.EntityFrameworkCore.Infrastructure.CoreOptionsExtension>()?.Interceptors?
             .OfType<CommitCallbacks>().FirstOrDefault()
         ?? throw new InvalidOperationException("this context was built without the library's CommitCallbacks (AddServiceDefaults adds them)"))
        .Add(this, callback);

    /// <summary>
    /// Records an event in the outbox; it is written by the next SaveChanges, in the same transaction as the change.
    /// </summary>
    public ServiceEvent AddEvent(string topic, IMessage payload, MasterRecord? master = null)
    {
        // Linking the master (not its id) lets EF fill the key in when both are inserted by the same save.
        var row = new ServiceEvent
        {
            EventType = topic,
            Payload = JsonFormatter.Default.Format(payload),
            OccurredAt = Clock.GetUtcNow(),
            Master = master,
        };
        ServiceEvents.Add(row);
        return row;
    }

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        var detect = BeginSave();
        try
        {
            Stamp();
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }
        finally
        {
            ChangeTracker.AutoDetectChangesEnabled = detect;
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        var detect = BeginSave();
        try
        {
            Stamp();
            return base.SaveChanges(acceptAllChangesOnSuccess);
        }
        finally
        {
            ChangeTracker.AutoDetectChangesEnabled = detect;
        }
    }

    /// <summary>
    /// Scans the tracked entities for changes once per save; until the save ends each further look at the change
    /// tracker (the stamps, the outbox signal, the save itself) would scan them all again. What the stamps change goes
    /// through the entry API, which the tracker sees at once. Returns the setting to restore.
    /// </summary>
    private bool BeginSave()
    {
        // Every write that needs more than one SaveChanges runs in a transaction of its own and is abandoned whole on
        // a failure, so the savepoint EF would wrap each SaveChanges in (two more round trips) is never rolled back to.
        // Set per save: a pooled context's settings go back to EF's defaults each time it returns to the pool.
        Database.AutoSavepointsEnabled = false;
        var detect = ChangeTracker.AutoDetectChangesEnabled;
        if (detect)
        {
            ChangeTracker.DetectChanges();
        }
        ChangeTracker.AutoDetectChangesEnabled = false;
        return detect;
    }

    /// <summary>Maintains master's timestamps on every save, synchronous or not.</summary>
    private void Stamp()
    {
        var now = Clock.GetUtcNow();
        // Through the entry, not the entity: changes were detected before the stamps, and are not detected again.
        foreach (var entry in ChangeTracker.Entries<MasterRecord>())
        {
            if (entry.State == EntityState.Added)
            {
                entry.Property(m => m.CreatedAt).CurrentValue = now;
                entry.Property(m => m.UpdatedAt).CurrentValue = now;
            }
            else if (entry.State == EntityState.Modified)
            {
                entry.Property(m => m.UpdatedAt).CurrentValue = now;
            }
        }
        TruncateTimestampsToMicroseconds();
    }

    /// <summary>A time as PostgreSQL keeps it: to the microsecond (.NET keeps 100 ns).</summary>
    public static DateTimeOffset Microseconds(DateTimeOffset value) => value.AddTicks(-(value.Ticks % 10));

    /// <summary>
    /// PostgreSQL keeps timestamps to the microsecond, .NET to 100 ns: without this, what a write returns from its saved
    /// entities (e.g. a create time) differs from what every later read of the same row returns.
    /// </summary>
    private void TruncateTimestampsToMicroseconds()
    {
        foreach (var entry in ChangeTracker.Entries().Where(e => e.State is EntityState.Added or EntityState.Modified))
        {
            foreach (var property in entry.Properties)
            {
                if (property.CurrentValue is DateTimeOffset value && Microseconds(value) != value)
                {
                    property.CurrentValue = Microseconds(value);
                }
            }
        }
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<MasterRecord>(master =>
        {
            master.ToTable("master");
            master.HasKey(m => m.Id);
            master.Property(m => m.Id).UseIdentityAlwaysColumn();
            master.HasIndex(m => m.Uuid).IsUnique();
            master.Property(m => m.Type).HasMaxLength(64);
            master.Property(m => m.Name).HasMaxLength(255);
            master.Property(m => m.Version).IsConcurrencyToken();
            master.HasIndex(m => new { m.Type, m.Name });
        });
        modelBuilder.Entity<ServiceEvent>(events =>
        {
            events.ToTable("service_event");
            events.HasKey(e => e.Id);
            events.HasOne(e => e.Master).WithMany().HasForeignKey(e => e.MasterId).OnDelete(DeleteBehavior.SetNull);
            events.Property(e => e.EventType).HasMaxLength(128);
            events.Property(e => e.Payload).HasColumnType("jsonb");
            events.HasIndex(e => e.MasterId);
            events.HasIndex(e => e.EventType);
            // The dispatcher's query: unpublished rows in order.
            events.HasIndex(e => e.OccurredAt).HasFilter("published_at IS NULL").HasDatabaseName("ix_service_event_unpublished");
        });
        modelBuilder.Entity<ProcessedMessage>(inbox =>
        {
            inbox.ToTable("processed_message");
            inbox.HasKey(m => new { m.MessageId, m.Consumer });
            inbox.Property(m => m.MessageId).HasMaxLength(ProcessedMessage.MaxIdLength);
            inbox.Property(m => m.Consumer).HasMaxLength(ProcessedMessage.MaxIdLength);
        });
    }
}

/// <summary>A row of one of the service's client tables, registered in <c>master</c> (the master-client pattern).</summary>
public interface IClientRecord
{
    long Id { get; }

    long MasterId { get; }

    MasterRecord Master { get; }
}

public static class ClientTableMapping
{
    /// <summary>Maps a client table: identity key and a one-to-one link to its master row, deleted with it.</summary>
    public static EntityTypeBuilder<T> ToClientTable<T>(this EntityTypeBuilder<T> entity, string table) where T : class, IClientRecord
    {
        entity.ToTable(table);
        entity.HasKey(e => e.Id);
        entity.Property(e => e.Id).UseIdentityAlwaysColumn();
        entity.HasOne(e => e.Master).WithOne().HasForeignKey<T>(e => e.MasterId).OnDelete(DeleteBehavior.Cascade);
        entity.HasIndex(e => e.MasterId).IsUnique();
        return entity;
    }
}
