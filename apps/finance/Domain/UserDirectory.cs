using Grpc.Core;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.V1;

namespace Ovasabi.Finance.Domain;

/// <summary>Asks the user service (through Dapr, as a service) whether users may have money moved.</summary>
public sealed class UserDirectory(UserService.UserServiceClient users)
{
    /// <summary>NotFound for an unknown (or deleted) user, FailedPrecondition for a suspended one.</summary>
    public async Task EnsureActiveAsync(IEnumerable<Guid> userIds, CancellationToken cancellationToken) =>
        await Task.WhenAll(userIds.Distinct().Select(id => EnsureActiveAsync(id, cancellationToken)));

    private async Task EnsureActiveAsync(Guid userId, CancellationToken cancellationToken)
    {
        Ovasabi.User.V1.User user;
        try
        {
            user = await users.GetUserAsync(new GetUserRequest { UserId = userId.ToString() }, cancellationToken: cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            throw new NotFoundException("user", userId.ToString());
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.ResourceExhausted)
        {
            throw new UnavailableException($"the user service cannot check user {userId} now; retry later", e);
        }
        if (user.Status == UserStatus.Suspended)
        {
            throw new FailedPreconditionException($"user {userId} is suspended: no money moves to or from their accounts", "USER_SUSPENDED");
        }
    }
}
