using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Ovasabi.Finance.Data;
using Ovasabi.Finance.Domain;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.V1;

namespace Ovasabi.Finance.Grpc;

/// <summary>
/// Asks the user service (through Dapr, as a service) whether users may have money moved. That a user is active is
/// remembered for <see cref="FinanceOptions.ActiveUserCacheTtl"/>, and forgotten at once when this replica receives
/// the user's suspension or deletion; a refusal is never remembered, so a reactivation applies at the next call.
/// </summary>
public sealed class UserDirectory(UserService.UserServiceClient users, IOptions<FinanceOptions> options, TimeProvider time) : IActiveUsers
{
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _activeUntil = new();

    /// <summary>NotFound for an unknown (or deleted) user, FailedPrecondition for a suspended one.</summary>
    public async Task EnsureActiveAsync(IEnumerable<Guid> userIds, CancellationToken cancellationToken) =>
        await Task.WhenAll(userIds.Distinct().Select(id => EnsureActiveAsync(id, cancellationToken)));

    /// <summary>The user may no longer be active (a suspension or deletion was announced).</summary>
    public void Forget(Guid userId) => _activeUntil.TryRemove(userId, out _);

    private async Task EnsureActiveAsync(Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_activeUntil.TryGetValue(userId, out var until) && until > now)
        {
            return;
        }
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
            Forget(userId);
            throw new FailedPreconditionException($"user {userId} is suspended: no money moves to or from their accounts", "USER_SUSPENDED");
        }
        if (options.Value.ActiveUserCacheTtl > TimeSpan.Zero)
        {
            _activeUntil[userId] = now + options.Value.ActiveUserCacheTtl;
        }
    }
}
