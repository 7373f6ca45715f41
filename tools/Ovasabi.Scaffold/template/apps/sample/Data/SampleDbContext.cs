using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.Sample.Data;

/// <summary>An item (its <c>master</c> row holds the ID), owned by a user.</summary>
public sealed class ItemRecord : IClientRecord
{
    public long Id { get; set; }

    public long MasterId { get; set; }

    public required MasterRecord Master { get; set; }

    public Guid OwnerUserId { get; set; }

    public string Metadata { get; set; } = "{}";
}

/// <summary>The sample service's database: the shared tables (master, service_event, processed_message) and its own.</summary>
public sealed class SampleDbContext(DbContextOptions<SampleDbContext> options) : ServiceDbContext(options)
{
    public DbSet<ItemRecord> Items => Set<ItemRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<ItemRecord>(item =>
        {
            item.ToClientTable("service_sample_item");
            item.Property(i => i.Metadata).HasColumnType("jsonb");
            item.HasIndex(i => i.OwnerUserId);
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without the app's configuration.</summary>
public sealed class SampleDbContextFactory : IDesignTimeDbContextFactory<SampleDbContext>
{
    public SampleDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SampleDbContext>().UseNpgsql("Host=localhost").UseSnakeCaseNamingConvention().Options);
}
