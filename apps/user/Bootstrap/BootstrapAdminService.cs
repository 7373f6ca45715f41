using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.Accounts;
using Ovasabi.User.Data;
using Ovasabi.User.Domain;
using Ovasabi.User.V1;

namespace Ovasabi.User.Bootstrap;

/// <summary>
/// Makes sure, before the app serves, that the bootstrap administrator exists and has the admin role: an absent account
/// is created as CreateUser creates one (same rules, same events) and then given the role as AssignRole gives it; an
/// existing one only gets the role if it lacks it, and its password and email are never changed.
/// </summary>
/// <remarks>
/// Hosted services start inside <c>app.RunAsync</c>, which RunServiceAsync calls only after applying migrations (the
/// <c>migrate</c> command never gets here), and in registration order, so after the sidecar answers: the role's cache
/// invalidation goes through it. A failure stops the app, as a missing connection string does.
/// </remarks>
public sealed class BootstrapAdminService(IServiceScopeFactory scopes, BootstrapAdminSettings settings, ILogger<BootstrapAdminService> logger)
    : IHostedService
{
    /// <summary>Enough for losing each of the two races (creation, role) to another replica, and a read after each.</summary>
    private const int MaxAttempts = 5;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var usernameKey = Usernames.Canonical(settings.Username);
        var emailTaken = false;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            // A context per attempt: one whose save failed still holds the changes it could not write.
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<UserDbContext>();
            var accounts = scope.ServiceProvider.GetRequiredService<UserAccounts>();
            var existing = await db.Users.AsNoTracking()
                .Where(u => u.UsernameKey == usernameKey)
                .Select(u => new { u.Master.Uuid, u.Username, u.State, IsAdmin = u.Roles.Any(r => r.Role == Roles.Admin) })
                .FirstOrDefaultAsync(cancellationToken);
            try
            {
                if (existing is null)
                {
                    if (emailTaken)
                    {
                        throw new InvalidOperationException(
                            $"user: the bootstrap administrator's email address ({BootstrapAdminSettings.Section}:Email) belongs to another user; give that user's username or another address");
                    }
                    var created = await accounts.CreateAsync(
                        new CreateUserRequest { Username = settings.Username, Email = settings.Email, Password = settings.Password }, cancellationToken);
                    logger.LogInformation("Created the bootstrap administrator {Username} ({UserId})", created.Username, created.Master.Uuid);
                    await accounts.AssignRoleAsync(created.Master.Uuid, Roles.Admin, cancellationToken);
                    logger.LogInformation("Gave the bootstrap administrator {Username} the {Role} role", created.Username, Roles.Admin);
                    return;
                }
                if (existing.State == UserState.Deleted)
                {
                    throw new InvalidOperationException(
                        $"user: the bootstrap administrator's username ({BootstrapAdminSettings.Section}:Username) belongs to a deleted user; choose another");
                }
                if (existing.State == UserState.Suspended)
                {
                    logger.LogWarning("The bootstrap administrator {Username} ({UserId}) is suspended and cannot log in until reactivated", existing.Username, existing.Uuid);
                }
                if (existing.IsAdmin)
                {
                    logger.LogInformation("The bootstrap administrator {Username} ({UserId}) exists with the {Role} role; nothing to do", existing.Username, existing.Uuid, Roles.Admin);
                    return;
                }
                await accounts.AssignRoleAsync(existing.Uuid, Roles.Admin, cancellationToken);
                logger.LogInformation("Gave the existing user {Username} ({UserId}) the {Role} role as the bootstrap administrator", existing.Username, existing.Uuid, Roles.Admin);
                return;
            }
            catch (InvalidArgumentException e)
            {
                throw new InvalidOperationException($"user: the bootstrap administrator ({BootstrapAdminSettings.Section}) is refused: {e.Message}", e);
            }
            catch (Exception e) when (LostRace(e))
            {
                // Another replica starting at the same time wrote first; what it wrote is read on the next attempt.
                emailTaken = e is AlreadyExistsException { Field: "email" };
                logger.LogInformation("The bootstrap administrator was changed concurrently (attempt {Attempt}); reading it again: {Reason}", attempt, e.Message);
            }
        }
        throw new InvalidOperationException($"user: the bootstrap administrator could not be set up in {MaxAttempts} attempts, each lost to a concurrent change");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The account was created (username or email taken), its version moved on, or the role was inserted, by someone
    /// else since it was read.
    /// </summary>
    private static bool LostRace(Exception error) =>
        error is AlreadyExistsException or NotFoundException or DbUpdateConcurrencyException
        || error is DbUpdateException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } };
}
