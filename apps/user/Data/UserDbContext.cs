using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.User.Data;

/// <summary>A user: its <c>master</c> row holds the UUID and version; <c>service_user</c> holds the rest.</summary>
public sealed class UserRecord : IClientRecord
{
    public long Id { get; set; }

    public long MasterId { get; set; }

    public required MasterRecord Master { get; set; }

    /// <summary>The username as chosen (NFKC); <see cref="UsernameKey"/> is its case-folded form, unique.</summary>
    public required string Username { get; set; }

    public required string UsernameKey { get; set; }

    public required string Email { get; set; }

    public required string EmailKey { get; set; }

    public required string PasswordHash { get; set; }

    public UserState State { get; set; } = UserState.Active;

    public string? SuspensionReason { get; set; }

    public string? DisplayName { get; set; }

    public string? AvatarUrl { get; set; }

    public string? Bio { get; set; }

    public string? Locale { get; set; }

    public string? TimeZone { get; set; }

    /// <summary>Profile custom fields as JSON (size-limited on write).</summary>
    public string CustomFields { get; set; } = "{}";

    /// <summary>Service metadata as JSON, for fields without a column yet.</summary>
    public string Metadata { get; set; } = "{}";

    public DateTimeOffset? LastLoginAt { get; set; }

    public DateTimeOffset? DeletedAt { get; set; }

    public List<UserRoleRecord> Roles { get; set; } = [];
}

public enum UserState { Active, Suspended, Deleted }

public sealed class UserRoleRecord
{
    public long UserId { get; set; }

    public required string Role { get; set; }

    public DateTimeOffset AssignedAt { get; set; }
}

public sealed class UserPreferenceRecord
{
    public long UserId { get; set; }

    public required string Category { get; set; }

    public required string Key { get; set; }

    public required string Value { get; set; }
}

/// <summary>
/// An account the start-up bootstrap created as the platform's first administrator, by the username and email it was
/// configured with. Only such an account is ever made administrator by the bootstrap, and one deleted later is not
/// created again. No foreign key: the record outlives the account's erasure, so the name cannot be re-registered and
/// promoted.
/// </summary>
public sealed class BootstrapAdminRecord
{
    public required string UsernameKey { get; set; }

    public required string EmailKey { get; set; }

    public Guid UserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class UserDbContext(DbContextOptions<UserDbContext> options) : ServiceDbContext(options)
{
    public DbSet<UserRecord> Users => Set<UserRecord>();

    public DbSet<UserRoleRecord> UserRoles => Set<UserRoleRecord>();

    public DbSet<UserPreferenceRecord> Preferences => Set<UserPreferenceRecord>();

    public DbSet<BootstrapAdminRecord> BootstrapAdmins => Set<BootstrapAdminRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<UserRecord>(user =>
        {
            user.ToClientTable("service_user");
            user.Property(u => u.Username).HasMaxLength(64);
            user.Property(u => u.UsernameKey).HasMaxLength(64);
            user.HasIndex(u => u.UsernameKey).IsUnique();
            user.Property(u => u.Email).HasMaxLength(254);
            user.Property(u => u.EmailKey).HasMaxLength(254);
            user.HasIndex(u => u.EmailKey).IsUnique();
            user.Property(u => u.PasswordHash).HasMaxLength(256);
            user.Property(u => u.State).HasConversion<string>().HasMaxLength(16);
            user.Property(u => u.DisplayName).HasMaxLength(64);
            user.Property(u => u.AvatarUrl).HasMaxLength(2048);
            user.Property(u => u.Bio).HasMaxLength(500);
            user.Property(u => u.Locale).HasMaxLength(35);
            user.Property(u => u.TimeZone).HasMaxLength(64);
            user.Property(u => u.CustomFields).HasColumnType("jsonb");
            user.Property(u => u.Metadata).HasColumnType("jsonb");
            user.HasMany(u => u.Roles).WithOne().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
            // Prefix search on usernames and display names ignores case.
            user.HasIndex(u => u.UsernameKey, "username_prefix").HasDatabaseName("ix_service_user_username_prefix").HasOperators("text_pattern_ops");
        });
        modelBuilder.Entity<UserRoleRecord>(role =>
        {
            role.ToTable("service_user_role");
            role.HasKey(r => new { r.UserId, r.Role });
            role.Property(r => r.Role).HasMaxLength(32);
            role.HasIndex(r => r.Role);
        });
        modelBuilder.Entity<UserPreferenceRecord>(preference =>
        {
            preference.ToTable("service_user_preference");
            preference.HasKey(p => new { p.UserId, p.Category, p.Key });
            preference.Property(p => p.Category).HasMaxLength(32);
            preference.Property(p => p.Key).HasMaxLength(64);
            preference.Property(p => p.Value).HasMaxLength(256);
            preference.HasOne<UserRecord>().WithMany().HasForeignKey(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<BootstrapAdminRecord>(bootstrap =>
        {
            bootstrap.ToTable("service_user_bootstrap_admin");
            bootstrap.HasKey(b => b.UsernameKey);
            bootstrap.Property(b => b.UsernameKey).HasMaxLength(64);
            bootstrap.Property(b => b.EmailKey).HasMaxLength(254);
        });
    }
}

/// <summary>Lets `dotnet ef migrations add` build the model without running the app.</summary>
public sealed class UserDbContextFactory : IDesignTimeDbContextFactory<UserDbContext>
{
    public UserDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<UserDbContext>()
            .UseNpgsql("Host=localhost;Database=user_design")
            .UseSnakeCaseNamingConvention()
            .Options);
}
