using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.ServiceDefaults.Caching;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.Domain;
using Ovasabi.User.Events;
using Ovasabi.User.Grpc;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;

namespace Ovasabi.User.Data;

/// <summary>
/// How users are written, for the API and for the start-up bootstrap alike. Every change bumps the user's version
/// (optimistic concurrency on <c>master</c>), writes its event into the outbox in the same transaction, and invalidates
/// the cached profile once committed.
/// </summary>
public sealed class UserAccounts(UserDbContext db, StateCache cache, PasswordHasher hasher, PasswordHashingGate hashing, TimeProvider time)
{
    public const string Entity = "user";

    /// <summary>Validates and creates an account with the <c>user</c> role, announced as <c>user.user.created</c>.</summary>
    /// <exception cref="InvalidArgumentException">The request breaks a rule (every problem is named).</exception>
    /// <exception cref="AlreadyExistsException">The username or the email address is taken.</exception>
    public async Task<UserRecord> CreateAsync(CreateUserRequest request, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        validator.Problem("username", Usernames.Validate(request.Username));
        validator.Problem("email", Emails.Validate(request.Email));
        validator.Problem("password", PasswordPolicy.Validate(request.Password, request.Username, request.Email));
        foreach (var problem in ProfileRules.Validate(UserMapping.Input(request.Profile)))
        {
            validator.Add(problem.Field, problem.Message);
        }
        validator.ThrowIfInvalid();

        var username = Usernames.Normalize(request.Username);
        var passwordHash = await hashing.RunAsync(() => hasher.Hash(request.Password), cancellationToken);
        var master = new MasterRecord { Type = Entity, Name = username };
        var user = new UserRecord
        {
            Master = master,
            Username = username,
            UsernameKey = Usernames.Canonical(request.Username),
            Email = Emails.Normalize(request.Email),
            EmailKey = Emails.Canonical(request.Email),
            PasswordHash = passwordHash,
            Roles = [new UserRoleRecord { Role = Roles.User, AssignedAt = time.GetUtcNow() }],
        };
        foreach (var field in ProfileRules.Fields)
        {
            user.ApplyProfileField(request.Profile ?? new Profile(), field);
        }
        db.Users.Add(user);
        db.AddEvent(UserTopics.Created, new UserCreated
        {
            UserId = master.Uuid.ToString(),
            Username = user.Username,
            Email = user.Email,
            OccurredAt = Now(),
        }, master);
        await SaveAsync(cancellationToken);
        return user;
    }

    /// <summary>
    /// Gives a live user a role from the catalogue, announced as <c>user.role.assigned</c>; a role the user has already
    /// changes nothing, so a retried call is harmless.
    /// </summary>
    public async Task<UserRecord> AssignRoleAsync(Guid id, string role, CancellationToken cancellationToken)
    {
        var user = await LoadForChangeAsync(id, expectedVersion: 0, cancellationToken);
        if (user.Roles.All(r => r.Role != role))
        {
            if (user.Roles.Count >= Roles.MaxRolesPerUser)
            {
                throw new FailedPreconditionException($"a user has at most {Roles.MaxRolesPerUser} roles", "TOO_MANY_ROLES");
            }
            user.Roles.Add(new UserRoleRecord { Role = role, AssignedAt = time.GetUtcNow() });
            await CommitChangeAsync(user, UserTopics.RoleAssigned,
                _ => new RoleAssigned { UserId = id.ToString(), Role = role, OccurredAt = Now() }, cancellationToken);
        }
        return user;
    }

    /// <summary>
    /// Fails when deleting <paramref name="user"/> or taking its admin role would leave the platform without an active
    /// administrator (nobody could then give the role again). Call inside the transaction that makes the change: it takes
    /// a lock that serialises such changes, so two administrators cannot each remove the other at the same moment.
    /// </summary>
    public async Task EnsureAnotherAdministratorAsync(UserRecord user, CancellationToken cancellationToken)
    {
        if (user.Roles.All(r => r.Role != Roles.Admin))
        {
            return;
        }
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdministratorsLock})", cancellationToken);
        var others = await db.Users.CountAsync(u => u.Id != user.Id && u.State == UserState.Active && u.Roles.Any(r => r.Role == Roles.Admin), cancellationToken);
        if (others == 0)
        {
            throw new FailedPreconditionException(
                "the last active administrator cannot be deleted or lose the admin role: make another administrator first", "LAST_ADMINISTRATOR");
        }
    }

    // An arbitrary key of this database's advisory locks, for changes to who administers the platform.
    private const long AdministratorsLock = 0x7573_6572_6164_6d;

    /// <summary>Loads a live user for a change; <paramref name="expectedVersion"/> 0 skips the version check.</summary>
    public async Task<UserRecord> LoadForChangeAsync(Guid id, long expectedVersion, CancellationToken cancellationToken)
    {
        var user = await db.Users.Include(u => u.Master).Include(u => u.Roles)
                       .FirstOrDefaultAsync(u => u.Master.Uuid == id && u.State != UserState.Deleted, cancellationToken)
                   ?? throw new NotFoundException(Entity, id.ToString());
        if (expectedVersion != 0 && expectedVersion != user.Master.Version)
        {
            throw new VersionConflictException(Entity, expectedVersion, user.Master.Version);
        }
        return user;
    }

    /// <summary>
    /// Bumps the version, records the event (built from the new version) and saves both in one transaction; then drops
    /// the cached profile.
    /// </summary>
    public async Task CommitChangeAsync(UserRecord user, string topic, Func<long, IMessage> payload, CancellationToken cancellationToken)
    {
        user.Master.Version++;
        db.AddEvent(topic, payload(user.Master.Version), user.Master);
        await SaveAsync(cancellationToken);
        await InvalidateAsync(user.Master.Uuid, cancellationToken);
    }

    /// <summary>Saves, turning a taken username or email into AlreadyExists naming the field.</summary>
    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (Taken(e) is { } taken)
        {
            throw taken;
        }
    }

    public Task InvalidateAsync(Guid id, CancellationToken cancellationToken) =>
        cache.InvalidateAsync(Entity, [ProfileKey(id)], cancellationToken);

    /// <summary>Where the user's profile is cached.</summary>
    public string ProfileKey(Guid id) => cache.Key(Entity, id.ToString(), "profile");

    public Timestamp Now() => Timestamp.FromDateTimeOffset(time.GetUtcNow());

    private static AlreadyExistsException? Taken(DbUpdateException error) =>
        (error.InnerException as PostgresException) is { SqlState: PostgresErrorCodes.UniqueViolation } unique
            ? unique.ConstraintName switch
            {
                "ix_service_user_username_key" => new AlreadyExistsException("username", "the username is taken"),
                "ix_service_user_email_key" => new AlreadyExistsException("email", "the email address is already registered"),
                _ => null,
            }
            : null;
}
