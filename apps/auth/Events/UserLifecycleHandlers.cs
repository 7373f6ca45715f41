using Ovasabi.Auth.Data;
using Ovasabi.Auth.Domain;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.V1.Events;

namespace Ovasabi.Auth.Events;

/// <summary>A suspended or deleted user is signed out everywhere at once, not at their next refresh.</summary>
public sealed class UserLifecycleHandlers(AuthDbContext db, Sessions sessions) : IEventHandler<UserSuspended>, IEventHandler<UserDeleted>
{
    public Task HandleAsync(UserSuspended message, EventContext context, CancellationToken cancellationToken) =>
        EndAllAsync(message.UserId, "user_suspended", cancellationToken);

    public Task HandleAsync(UserDeleted message, EventContext context, CancellationToken cancellationToken) =>
        EndAllAsync(message.UserId, "user_deleted", cancellationToken);

    private async Task EndAllAsync(string userId, string reason, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(userId, out var id))
        {
            throw new InvalidArgumentException("user_id", "is not a UUID");
        }
        await sessions.RevokeAsync(await sessions.LiveAsync(id, cancellationToken), reason, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }
}
