using Ovasabi.Auth.Data;
using Ovasabi.Auth.Domain;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.V1.Events;

namespace Ovasabi.Auth.Events;

/// <summary>
/// A suspended or deleted user is signed out everywhere at once, not at their next refresh; a changed password ends
/// every session but the one that changed it.
/// </summary>
public sealed class UserLifecycleHandlers(AuthDbContext db, Sessions sessions)
    : IEventHandler<UserSuspended>, IEventHandler<UserDeleted>, IEventHandler<PasswordChanged>
{
    public Task HandleAsync(UserSuspended message, EventContext context, CancellationToken cancellationToken) =>
        EndAllAsync(message.UserId, "user_suspended", cancellationToken);

    public Task HandleAsync(UserDeleted message, EventContext context, CancellationToken cancellationToken) =>
        EndAllAsync(message.UserId, "user_deleted", cancellationToken);

    public Task HandleAsync(PasswordChanged message, EventContext context, CancellationToken cancellationToken) =>
        EndAllAsync(message.UserId, "password_changed", cancellationToken, keep: message.KeptSessionId);

    private async Task EndAllAsync(string userId, string reason, CancellationToken cancellationToken, string keep = "")
    {
        if (!Guid.TryParse(userId, out var id))
        {
            throw new InvalidArgumentException("user_id", "is not a UUID");
        }
        var live = await sessions.LiveAsync(id, cancellationToken);
        await sessions.RevokeAsync([.. live.Where(s => s.Master.Uuid.ToString() != keep)], reason, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }
}
