using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Data;

namespace Ovasabi.Notification.Data;

/// <summary>
/// One message: a notification for one recipient on one channel, rendered once (what was shown is kept as it was),
/// with its delivery state. <see cref="SourceKey"/> names the fact it reports: with the recipient and the channel it
/// is unique, so a fact notifies each recipient at most once per channel.
/// </summary>
public sealed class MessageRecord
{
    public long Id { get; set; }

    public Guid Uuid { get; set; }

    public required string SourceKey { get; set; }

    /// <summary>The user's UUID (an address of its own for recipients that are not users, e.g. webhook endpoints).</summary>
    public required string RecipientKey { get; set; }

    public Guid? RecipientUserId { get; set; }

    /// <summary><see cref="Channels"/>.</summary>
    public required string Channel { get; set; }

    public required string Category { get; set; }

    public bool Critical { get; set; }

    public required string NotificationKey { get; set; }

    public required string Locale { get; set; }

    /// <summary>The title (an email's subject).</summary>
    public required string Subject { get; set; }

    public required string BodyText { get; set; }

    /// <summary>An email's HTML body, layout included.</summary>
    public string? BodyHtml { get; set; }

    /// <summary>Where the channel delivers it (an email address); null for in-app.</summary>
    public string? Address { get; set; }

    /// <summary>The digest an email waits in (then it is sent as part of one message, or alone if it stays alone).</summary>
    public long? DigestId { get; set; }

    /// <summary>The template version it was rendered with; 0: the shipped one.</summary>
    public int TemplateVersion { get; set; }

    /// <summary>An email's one-click unsubscribe link (RFC 8058), for providers that can send it as a header; null for critical mail.</summary>
    public string? UnsubscribeUrl { get; set; }

    /// <summary>The facts the message was rendered from, as JSON.</summary>
    public string Data { get; set; } = "{}";

    /// <summary><see cref="MessageStatuses"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Why it is in its status (the last failure, a suppression), at most 200 characters.</summary>
    public string? StatusReason { get; set; }

    public DateTimeOffset DueAt { get; set; }

    /// <summary>Sends started, successful or not.</summary>
    public int AttemptCount { get; set; }

    /// <summary>The replica sending it and until when; a lease that ran out is taken over.</summary>
    public Guid? LeaseToken { get; set; }

    public DateTimeOffset? LeaseUntil { get; set; }

    /// <summary>The Dapr binding that accepted it.</summary>
    public string? ProviderBinding { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    public DateTimeOffset? ReadAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public long Version { get; set; } = 1;
}

/// <summary>A Send call, kept so that a retry with its idempotency key gets the same answer.</summary>
public sealed class SendRequestRecord
{
    public long Id { get; set; }

    /// <summary>Who sent it (<c>user:&lt;id&gt;</c>, <c>app:&lt;id&gt;</c>): keys are scoped to the caller.</summary>
    public required string Caller { get; set; }

    public required string IdempotencyKey { get; set; }

    /// <summary>SHA-256 of the request, to tell a retry from another request under the same key.</summary>
    public required byte[] Fingerprint { get; set; }

    /// <summary>The answer (the messages written), as JSON.</summary>
    public required string Response { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An address a user signed in from, kept as a keyed hash (the table does not reveal addresses).</summary>
public sealed class KnownAddressRecord
{
    public Guid UserId { get; set; }

    /// <summary>HMAC-SHA256 of the normalised address (IPv4, or the IPv6 /64).</summary>
    public required byte[] AddressHash { get; set; }

    public DateTimeOffset FirstSeen { get; set; }

    public DateTimeOffset LastSeen { get; set; }
}

/// <summary>
/// A status a message entered, appended and never changed: its delivery record. An attempt's outcome also names the
/// attempt, the binding, the outcome and how long the provider took; <see cref="Reason"/> then holds its answer.
/// </summary>
public sealed class MessageHistoryRecord
{
    public long Id { get; set; }

    public long MessageId { get; set; }

    public required string Status { get; set; }

    public string? Reason { get; set; }

    public required string Actor { get; set; }

    public int? Attempt { get; set; }

    public string? Binding { get; set; }

    public string? Outcome { get; set; }

    public int? DurationMs { get; set; }

    public DateTimeOffset At { get; set; }
}

/// <summary>A user's notification preferences (<see cref="Domain.Preferences"/>); a user without a row has the defaults.</summary>
public sealed class PreferenceRecord
{
    public Guid UserId { get; set; }

    public bool GlobalMute { get; set; }

    public TimeOnly? QuietStart { get; set; }

    public TimeOnly? QuietEnd { get; set; }

    public string? TimeZone { get; set; }

    public string? Locale { get; set; }

    public string? SmsNumber { get; set; }

    /// <summary>The category × channel rules set so far, as JSON.</summary>
    public string Rules { get; set; } = "[]";

    public long Version { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>An unsubscribe link that was used (by the SHA-256 of its token): a link works once.</summary>
public sealed class UnsubscribeUseRecord
{
    public required byte[] TokenHash { get; set; }

    public Guid UserId { get; set; }

    public required string Category { get; set; }

    public required string Channel { get; set; }

    public DateTimeOffset UsedAt { get; set; }
}

/// <summary>Emails of one digest key for one user, gathered until <see cref="ClosesAt"/>, then flushed as one message.</summary>
public sealed class DigestRecord
{
    public long Id { get; set; }

    public Guid Uuid { get; set; }

    public required string RecipientKey { get; set; }

    public required string Channel { get; set; }

    public required string Key { get; set; }

    /// <summary><c>open</c> while emails join it; <c>flushed</c> once sent.</summary>
    public required string Status { get; set; }

    public DateTimeOffset OpenedAt { get; set; }

    public DateTimeOffset ClosesAt { get; set; }

    /// <summary>The message that carried its emails, when there were two or more.</summary>
    public long? ResultMessageId { get; set; }
}

/// <summary>A binding's rate limit state: the theoretical arrival time of its next message (GCRA).</summary>
public sealed class BindingRateRecord
{
    public required string Binding { get; set; }

    public DateTimeOffset Tat { get; set; }
}

/// <summary>A template an administrator stored for a notification on a channel in a locale; its versions hold the text.</summary>
public sealed class TemplateRecord
{
    public long Id { get; set; }

    public required string Key { get; set; }

    public required string Channel { get; set; }

    public required string Locale { get; set; }

    public int CurrentVersion { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One version of a stored template, never changed once written.</summary>
public sealed class TemplateVersionRecord
{
    public long Id { get; set; }

    public long TemplateId { get; set; }

    public int Version { get; set; }

    public required string Title { get; set; }

    public required string Text { get; set; }

    public string? Html { get; set; }

    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A user's webhook endpoint: where their notifications are posted, and the secret (sealed) they are signed with.</summary>
public sealed class WebhookEndpointRecord
{
    public long Id { get; set; }

    public Guid Uuid { get; set; }

    public Guid UserId { get; set; }

    public required string Binding { get; set; }

    public required string Path { get; set; }

    /// <summary>The categories it receives; empty: every one but security.</summary>
    public List<string> Categories { get; set; } = [];

    /// <summary>The signing key, sealed with the service's key (<see cref="Domain.SecretBox"/>).</summary>
    public required byte[] Secret { get; set; }

    /// <summary>The key a rotation replaced, still signing until <see cref="PreviousSecretValidUntil"/>.</summary>
    public byte[]? PreviousSecret { get; set; }

    public DateTimeOffset? PreviousSecretValidUntil { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public long Version { get; set; } = 1;
}

/// <summary>The notification service's database: the shared tables (master, service_event, processed_message), its messages, Send calls, known sign-in addresses and preferences.</summary>
public sealed class NotificationDbContext(DbContextOptions<NotificationDbContext> options) : ServiceDbContext(options)
{
    public DbSet<MessageRecord> Messages => Set<MessageRecord>();

    public DbSet<SendRequestRecord> SendRequests => Set<SendRequestRecord>();

    public DbSet<KnownAddressRecord> KnownAddresses => Set<KnownAddressRecord>();

    public DbSet<MessageHistoryRecord> History => Set<MessageHistoryRecord>();

    public DbSet<PreferenceRecord> Preferences => Set<PreferenceRecord>();

    public DbSet<UnsubscribeUseRecord> UnsubscribeUses => Set<UnsubscribeUseRecord>();

    public DbSet<WebhookEndpointRecord> WebhookEndpoints => Set<WebhookEndpointRecord>();

    public DbSet<TemplateRecord> Templates => Set<TemplateRecord>();

    public DbSet<DigestRecord> Digests => Set<DigestRecord>();

    public DbSet<BindingRateRecord> BindingRates => Set<BindingRateRecord>();

    public DbSet<TemplateVersionRecord> TemplateVersions => Set<TemplateVersionRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<KnownAddressRecord>(address =>
        {
            address.ToTable("service_notification_known_address");
            address.HasKey(a => new { a.UserId, a.AddressHash });
        });
        modelBuilder.Entity<MessageHistoryRecord>(change =>
        {
            change.ToTable("service_notification_message_history");
            change.Property(h => h.Id).UseIdentityAlwaysColumn();
            change.Property(h => h.Status).HasMaxLength(12);
            change.Property(h => h.Reason).HasMaxLength(200);
            change.Property(h => h.Actor).HasMaxLength(80);
            change.Property(h => h.Binding).HasMaxLength(64);
            change.Property(h => h.Outcome).HasMaxLength(12);
            change.HasOne<MessageRecord>().WithMany().HasForeignKey(h => h.MessageId).OnDelete(DeleteBehavior.Cascade);
            change.HasIndex(h => new { h.MessageId, h.Id });
        });
        modelBuilder.Entity<PreferenceRecord>(preference =>
        {
            preference.ToTable("service_notification_preference", table =>
                table.HasCheckConstraint("ck_notification_preference_quiet", "(quiet_start IS NULL) = (quiet_end IS NULL)"));
            preference.HasKey(p => p.UserId);
            preference.Property(p => p.TimeZone).HasMaxLength(64);
            preference.Property(p => p.Locale).HasMaxLength(35);
            preference.Property(p => p.SmsNumber).HasMaxLength(16);
            preference.Property(p => p.Rules).HasColumnType("jsonb");
            preference.Property(p => p.Version).IsConcurrencyToken();
        });
        modelBuilder.Entity<UnsubscribeUseRecord>(use =>
        {
            use.ToTable("service_notification_unsubscribe_use");
            use.HasKey(u => u.TokenHash);
            use.Property(u => u.Category).HasMaxLength(40);
            use.Property(u => u.Channel).HasMaxLength(8);
        });
        modelBuilder.Entity<BindingRateRecord>(rate =>
        {
            rate.ToTable("service_notification_binding_rate");
            rate.HasKey(r => r.Binding);
            rate.Property(r => r.Binding).HasMaxLength(64);
        });
        modelBuilder.Entity<DigestRecord>(digest =>
        {
            digest.ToTable("service_notification_digest", table => table.HasCheckConstraint("ck_notification_digest_status", "status IN ('open','flushed')"));
            digest.Property(d => d.Id).UseIdentityAlwaysColumn();
            digest.HasIndex(d => d.Uuid).IsUnique();
            digest.Property(d => d.RecipientKey).HasMaxLength(80);
            digest.Property(d => d.Channel).HasMaxLength(8);
            digest.Property(d => d.Key).HasMaxLength(64);
            digest.Property(d => d.Status).HasMaxLength(8);
            // One open digest per user, channel and key: concurrent sends join the same one.
            digest.HasIndex(d => new { d.RecipientKey, d.Channel, d.Key }).IsUnique().HasFilter("status = 'open'").HasDatabaseName("ux_notification_digest_open");
            digest.HasIndex(d => d.ClosesAt).HasFilter("status = 'open'").HasDatabaseName("ix_notification_digest_closes");
        });
        modelBuilder.Entity<TemplateRecord>(template =>
        {
            template.ToTable("service_notification_template");
            template.Property(t => t.Id).UseIdentityAlwaysColumn();
            template.Property(t => t.Key).HasMaxLength(64);
            template.Property(t => t.Channel).HasMaxLength(8);
            template.Property(t => t.Locale).HasMaxLength(35);
            template.HasIndex(t => new { t.Key, t.Channel, t.Locale }).IsUnique();
        });
        modelBuilder.Entity<TemplateVersionRecord>(version =>
        {
            version.ToTable("service_notification_template_version");
            version.Property(v => v.Id).UseIdentityAlwaysColumn();
            version.Property(v => v.Title).HasMaxLength(512);
            version.Property(v => v.CreatedBy).HasMaxLength(80);
            version.HasOne<TemplateRecord>().WithMany().HasForeignKey(v => v.TemplateId).OnDelete(DeleteBehavior.Cascade);
            version.HasIndex(v => new { v.TemplateId, v.Version }).IsUnique();
        });
        modelBuilder.Entity<WebhookEndpointRecord>(endpoint =>
        {
            endpoint.ToTable("service_notification_webhook_endpoint");
            endpoint.Property(e => e.Id).UseIdentityAlwaysColumn();
            endpoint.HasIndex(e => e.Uuid).IsUnique();
            endpoint.HasIndex(e => new { e.UserId, e.CreatedAt });
            endpoint.Property(e => e.Binding).HasMaxLength(64);
            endpoint.Property(e => e.Path).HasMaxLength(201);
            endpoint.Property(e => e.Version).IsConcurrencyToken();
        });
        modelBuilder.Entity<SendRequestRecord>(request =>
        {
            request.ToTable("service_notification_send_request");
            request.Property(r => r.Id).UseIdentityAlwaysColumn();
            request.Property(r => r.Caller).HasMaxLength(80);
            request.Property(r => r.IdempotencyKey).HasMaxLength(128);
            request.Property(r => r.Response).HasColumnType("jsonb");
            request.HasIndex(r => new { r.Caller, r.IdempotencyKey }).IsUnique();
        });
        modelBuilder.Entity<MessageRecord>(message =>
        {
            message.ToTable("service_notification_message", table =>
            {
                table.HasCheckConstraint("ck_notification_message_status",
                    "status IN ('scheduled','sending','sent','failed','throttled','suppressed','read','digested','canceled')");
                table.HasCheckConstraint("ck_notification_message_channel", "channel IN ('email','sms','webhook','in_app')");
            });
            message.Property(m => m.Id).UseIdentityAlwaysColumn();
            message.HasIndex(m => m.Uuid).IsUnique();
            message.Property(m => m.SourceKey).HasMaxLength(200);
            message.Property(m => m.RecipientKey).HasMaxLength(80);
            message.Property(m => m.Channel).HasMaxLength(8);
            message.Property(m => m.Category).HasMaxLength(40);
            message.Property(m => m.NotificationKey).HasMaxLength(64);
            message.Property(m => m.Locale).HasMaxLength(35);
            message.Property(m => m.Subject).HasMaxLength(512);
            message.Property(m => m.Status).HasMaxLength(12);
            message.Property(m => m.StatusReason).HasMaxLength(200);
            message.Property(m => m.Address).HasMaxLength(320);
            message.Property(m => m.UnsubscribeUrl).HasMaxLength(1024);
            message.Property(m => m.ProviderBinding).HasMaxLength(64);
            message.Property(m => m.Data).HasColumnType("jsonb");
            message.Property(m => m.Version).IsConcurrencyToken();
            message.HasOne<DigestRecord>().WithMany().HasForeignKey(m => m.DigestId);
            message.HasIndex(m => new { m.SourceKey, m.RecipientKey, m.Channel }).IsUnique().HasDatabaseName("ux_notification_message_once");
            // Named: the user index below has the same columns without the filter.
            message.HasIndex(m => new { m.RecipientUserId, m.CreatedAt, m.Uuid }, "ix_notification_message_inbox").IsDescending(false, true, true)
                .HasFilter("channel = 'in_app'").HasDatabaseName("ix_notification_message_inbox");
            message.HasIndex(m => m.RecipientUserId).HasFilter("channel = 'in_app' AND read_at IS NULL").HasDatabaseName("ix_notification_message_unread");
            message.HasIndex(m => m.DueAt).HasFilter("status = 'scheduled'").HasDatabaseName("ix_notification_message_due");
            message.HasIndex(m => m.LeaseUntil).HasFilter("status = 'sending'").HasDatabaseName("ix_notification_message_lease");
            message.HasIndex(m => new { m.RecipientUserId, m.CreatedAt, m.Uuid }, "ix_notification_message_user").IsDescending(false, true, true)
                .HasDatabaseName("ix_notification_message_user");
            message.HasIndex(m => new { m.RecipientKey, m.Channel, m.Category, m.CreatedAt }).HasDatabaseName("ix_notification_message_recent");
            message.HasIndex(m => new { m.CreatedAt, m.Uuid }).IsDescending(true, true).HasFilter("status = 'failed'").HasDatabaseName("ix_notification_message_failed");
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without the app's configuration.</summary>
public sealed class NotificationDbContextFactory : IDesignTimeDbContextFactory<NotificationDbContext>
{
    public NotificationDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<NotificationDbContext>().UseNpgsql("Host=localhost").UseSnakeCaseNamingConvention().Options);
}
