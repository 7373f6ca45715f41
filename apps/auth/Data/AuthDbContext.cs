using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.Auth.Data;

/// <summary>A sign-in session: its <c>master</c> row holds the session ID (UUID); kept after it ends, for audit.</summary>
public sealed class SessionRecord : IClientRecord
{
    public long Id { get; set; }

    public long MasterId { get; set; }

    public required MasterRecord Master { get; set; }

    public Guid UserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastRefreshAt { get; set; }

    /// <summary>The session's absolute end; refreshing never extends it.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>logout, revoked, revoke_all, token_reuse, user_suspended, user_deleted.</summary>
    public string? RevokeReason { get; set; }

    public string? ClientAddress { get; set; }

    public string? UserAgent { get; set; }

    public string Metadata { get; set; } = "{}";

    public bool IsLive(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;
}

/// <summary>A refresh token, known only by its SHA-256; used once, then replaced.</summary>
public sealed class RefreshTokenRecord
{
    public required byte[] Hash { get; set; }

    public long SessionId { get; set; }

    public SessionRecord? Session { get; set; }

    public DateTimeOffset IssuedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When it was exchanged for a new pair; presenting it again is a replay.</summary>
    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>A public signing key seen in the secret store, published until tokens it signed can no longer be valid.</summary>
public sealed class SigningKeyRecord
{
    public required string KeyId { get; set; }

    /// <summary>The public key as a JSON Web Key.</summary>
    public required string PublicJwk { get; set; }

    public DateTimeOffset FirstSeenAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }
}

public sealed class AuthDbContext(DbContextOptions<AuthDbContext> options) : ServiceDbContext(options)
{
    public DbSet<SessionRecord> Sessions => Set<SessionRecord>();

    public DbSet<RefreshTokenRecord> RefreshTokens => Set<RefreshTokenRecord>();

    public DbSet<SigningKeyRecord> SigningKeys => Set<SigningKeyRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<SessionRecord>(session =>
        {
            session.ToClientTable("service_auth_session");
            session.HasIndex(s => s.UserId);
            session.Property(s => s.RevokeReason).HasMaxLength(32);
            session.Property(s => s.ClientAddress).HasMaxLength(64);
            session.Property(s => s.UserAgent).HasMaxLength(256);
            session.Property(s => s.Metadata).HasColumnType("jsonb");
        });
        modelBuilder.Entity<RefreshTokenRecord>(token =>
        {
            token.ToTable("service_auth_refresh_token");
            token.HasKey(t => t.Hash);
            token.HasOne(t => t.Session).WithMany().HasForeignKey(t => t.SessionId).OnDelete(DeleteBehavior.Cascade);
            token.HasIndex(t => t.SessionId);
        });
        modelBuilder.Entity<SigningKeyRecord>(key =>
        {
            key.ToTable("service_auth_signing_key");
            key.HasKey(k => k.KeyId);
            key.Property(k => k.KeyId).HasMaxLength(128);
            key.Property(k => k.PublicJwk).HasColumnType("jsonb");
        });
    }
}

/// <summary>Lets `dotnet ef migrations add` build the model without running the app.</summary>
public sealed class AuthDbContextFactory : IDesignTimeDbContextFactory<AuthDbContext>
{
    public AuthDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AuthDbContext>()
            .UseNpgsql("Host=localhost;Database=auth_design")
            .UseSnakeCaseNamingConvention()
            .Options);
}
