using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.ServiceDefaults.Tests.Probe;

/// <summary>A probe item: its <c>master</c> row holds the UUID and version, <c>probe_item</c> its name.</summary>
public sealed class ProbeItem : IClientRecord
{
    public long Id { get; set; }

    public long MasterId { get; set; }

    public required MasterRecord Master { get; set; }

    public required string Name { get; set; }
}

/// <summary>One handling of an event by the probe's handlers (no unique key, so a second handling would show).</summary>
public sealed class HandledEvent
{
    public long Id { get; set; }

    public required string EventId { get; set; }

    public required string Topic { get; set; }

    public required string Key { get; set; }

    public DateTimeOffset HandledAt { get; set; }
}

public sealed class ProbeDbContext(DbContextOptions<ProbeDbContext> options) : ServiceDbContext(options)
{
    public DbSet<ProbeItem> Items => Set<ProbeItem>();

    public DbSet<HandledEvent> HandledEvents => Set<HandledEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<ProbeItem>(item =>
        {
            item.ToClientTable("probe_item");
            item.Property(i => i.Name).HasMaxLength(64);
            item.HasIndex(i => i.Name).IsUnique();
        });
        modelBuilder.Entity<HandledEvent>(handled =>
        {
            handled.ToTable("probe_handled_event");
            handled.HasKey(h => h.Id);
            handled.Property(h => h.Id).UseIdentityAlwaysColumn();
            handled.Property(h => h.EventId).HasMaxLength(128);
            handled.Property(h => h.Topic).HasMaxLength(128);
            handled.Property(h => h.Key).HasMaxLength(128);
            handled.HasIndex(h => h.EventId);
        });
    }

    /// <summary>A context with the options the library gives it (for tests that read the database directly).</summary>
    public static ProbeDbContext Create(string connectionString) =>
        new(new DbContextOptionsBuilder<ProbeDbContext>().UseNpgsql(connectionString).UseSnakeCaseNamingConvention().Options);
}

/// <summary>
/// Lets `dotnet ef migrations add` build the model without running the probe (Probe/Migrations was scaffolded from it
/// with EF's migrations scaffolder, which that command runs).
/// </summary>
public sealed class ProbeDbContextFactory : IDesignTimeDbContextFactory<ProbeDbContext>
{
    public ProbeDbContext CreateDbContext(string[] args) => ProbeDbContext.Create("Host=localhost;Database=probe_design");
}
