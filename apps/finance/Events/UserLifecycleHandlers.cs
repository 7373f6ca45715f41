using Ovasabi.Finance.Grpc;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.User.V1.Events;

namespace Ovasabi.Finance.Events;

/// <summary>A suspended or deleted user's money stops moving now, not when the remembered check expires.</summary>
public sealed class UserLifecycleHandlers(UserDirectory users) : IEventHandler<UserSuspended>, IEventHandler<UserDeleted>
{
    public Task HandleAsync(UserSuspended message, EventContext context, CancellationToken cancellationToken) => ForgetAsync(message.UserId);

    public Task HandleAsync(UserDeleted message, EventContext context, CancellationToken cancellationToken) => ForgetAsync(message.UserId);

    private Task ForgetAsync(string userId)
    {
        if (Guid.TryParse(userId, out var id))
        {
            users.Forget(id);
        }
        return Task.CompletedTask;
    }
}
