using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.Domain;
using Ovasabi.User.V1;

namespace Ovasabi.User.Data;

/// <summary>
/// Makes sure, before the app serves, that the bootstrap administrator exists. The bootstrap creates the account (as
/// CreateUser does, same rules and events), gives it the admin role and records that it did so
/// (<see cref="BootstrapAdminRecord"/>), all in one transaction. After that it only ever acts on the account it
/// created: the role is given back if it was removed, and an account deleted since is left deleted (logged) rather
/// than created again. An account it did not create is never made administrator: if the configured username or email
/// belongs to one, start fails naming the key, unless that account already is an administrator with both the
/// username and the email configured (an administrator before the bootstrap kept records), which it adopts.
/// It never changes a password.
/// </summary>
/// <remarks>
/// Hosted services start inside <c>app.RunAsync</c>, which RunServiceAsync calls only after applying migrations (the
/// <c>migrate</c> command never gets here), and in registration order, so after the sidecar answers: the role's cache
/// invalidation goes through it. A failure stops the app, as a missing connection string does.
/// </remarks>
public sealed class BootstrapAdminService(IServiceScopeFactory scopes, BootstrapAdminSettings settings, TimeProvider time, ILogger<BootstrapAdminService> logger)
    : IHostedService
{
    /// <summary>Enough for losing each race (creation, role) to another replica, and a read after each.</summary>
    private const int MaxAttempts = 5;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var usernameKey = Usernames.Canonical(settings.Username);
        var emailKey = Emails.Canonical(settings.Email);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            // A context per attempt: one whose save failed still holds the changes it could not write.
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<UserDbContext>();
            var accounts = scope.ServiceProvider.GetRequiredService<UserAccounts>();
            try
            {
                var record = await db.BootstrapAdmins.AsNoTracking().FirstOrDefaultAsync(b => b.UsernameKey == usernameKey, cancellationToken);
                if (record is not null)
                {
                    await KeepAsync(db, accounts, record, cancellationToken);
                    return;
                }
                var taken = await db.Users.AsNoTracking()
                    .Where(u => u.UsernameKey == usernameKey || u.EmailKey == emailKey)
                    .Select(u => new { u.Master.Uuid, u.UsernameKey, u.EmailKey, u.State, IsAdmin = u.Roles.Any(r => r.Role == Roles.Admin) })
                    .ToListAsync(cancellationToken);
                if (taken.Count == 0)
                {
                    await CreateAsync(db, accounts, usernameKey, emailKey, cancellationToken);
                    return;
                }
                if (taken is [{ State: not UserState.Deleted, IsAdmin: true } admin] && admin.UsernameKey == usernameKey && admin.EmailKey == emailKey)
                {
                    db.BootstrapAdmins.Add(new BootstrapAdminRecord { UsernameKey = usernameKey, EmailKey = emailKey, UserId = admin.Uuid, CreatedAt = time.GetUtcNow() });
                    await db.SaveChangesAsync(cancellationToken);
                    logger.LogInformation("Adopted the existing administrator {Username} ({UserId}) as the bootstrap administrator", settings.Username, admin.Uuid);
                    return;
                }
                var key = taken.Any(u => u.UsernameKey == usernameKey) ? "Username" : "Email";
                throw new InvalidOperationException(
                    $"user: the bootstrap administrator's {key.ToLowerInvariant()} ({BootstrapAdminSettings.Section}:{key}) belongs to an account the bootstrap did not create, which is never made an administrator; configure another {key.ToLowerInvariant()}");
            }
            catch (InvalidArgumentException e)
            {
                throw new InvalidOperationException($"user: the bootstrap administrator ({BootstrapAdminSettings.Section}) is refused: {e.Message}", e);
            }
            catch (Exception e) when (LostRace(e))
            {
                // Another replica starting at the same time wrote first; what it wrote is read on the next attempt.
                logger.LogInformation("The bootstrap administrator was changed concurrently (attempt {Attempt}); reading it again: {Reason}", attempt, e.Message);
            }
        }
        throw new InvalidOperationException($"user: the bootstrap administrator could not be set up in {MaxAttempts} attempts, each lost to a concurrent change");
    }

    /// <summary>Creates the account, gives it the admin role and records it, in one transaction.</summary>
    private async Task CreateAsync(UserDbContext db, UserAccounts accounts, string usernameKey, string emailKey, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var created = await accounts.CreateAsync(new NewAccount(settings.Username, settings.Email, settings.Password, null), cancellationToken);
        db.BootstrapAdmins.Add(new BootstrapAdminRecord { UsernameKey = usernameKey, EmailKey = emailKey, UserId = created.Master.Uuid, CreatedAt = time.GetUtcNow() });
        await accounts.AssignRoleAsync(created.Master.Uuid, Roles.Admin, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Created the bootstrap administrator {Username} ({UserId}) with the {Role} role", created.Username, created.Master.Uuid, Roles.Admin);
    }

    /// <summary>The account the bootstrap created: given the admin role back if it lost it; left alone if deleted.</summary>
    private async Task KeepAsync(UserDbContext db, UserAccounts accounts, BootstrapAdminRecord record, CancellationToken cancellationToken)
    {
        var account = await db.Users.AsNoTracking()
            .Where(u => u.Master.Uuid == record.UserId)
            .Select(u => new { u.Username, u.State, IsAdmin = u.Roles.Any(r => r.Role == Roles.Admin) })
            .FirstOrDefaultAsync(cancellationToken);
        if (account is null || account.State == UserState.Deleted)
        {
            logger.LogWarning("The bootstrap administrator {Username} ({UserId}) was deleted; it is not created again (configure another username for a new one)",
                settings.Username, record.UserId);
            return;
        }
        if (account.State == UserState.Suspended)
        {
            logger.LogWarning("The bootstrap administrator {Username} ({UserId}) is suspended and cannot log in until reactivated", account.Username, record.UserId);
        }
        if (account.IsAdmin)
        {
            logger.LogInformation("The bootstrap administrator {Username} ({UserId}) exists with the {Role} role; nothing to do", account.Username, record.UserId, Roles.Admin);
            return;
        }
        await accounts.AssignRoleAsync(record.UserId, Roles.Admin, cancellationToken);
        logger.LogInformation("Gave the bootstrap administrator {Username} ({UserId}) the {Role} role back", account.Username, record.UserId, Roles.Admin);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The account or its record was created (username, email or record key taken), its version moved on, or the role
    /// was inserted, by someone else since it was read.
    /// </summary>
    private static bool LostRace(Exception error) =>
        error is AlreadyExistsException or NotFoundException or DbUpdateConcurrencyException
        || error is DbUpdateException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } };
}
