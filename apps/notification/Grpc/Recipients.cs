using Ovasabi.Notification.Data;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.User.V1;

namespace Ovasabi.Notification.Grpc;

/// <summary>A user as messages show them: the name others see, the language and time zone of their own messages, their email address.</summary>
public sealed record Recipient(Guid Id, string Name, string? Locale, string Email, string? TimeZone)
{
    public Addressee To => new(Locale, Email, TimeZone);
}

/// <summary>Asks the user service (through Dapr, as the app) who a recipient is.</summary>
public sealed class Recipients(UserService.UserServiceClient users)
{
    /// <summary>
    /// The user, or null when there is none (deleted since the event): nobody to notify. A user service that cannot
    /// answer now is Unavailable, so the event is delivered again later.
    /// </summary>
    public async Task<Recipient?> FindAsync(Guid userId, CancellationToken cancellationToken)
    {
        Ovasabi.User.V1.User user;
        try
        {
            user = await users.GetUserAsync(new GetUserRequest { UserId = userId.ToString() }, cancellationToken: cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.ResourceExhausted)
        {
            throw new UnavailableException($"the user service cannot say who user {userId} is now; retry later", e);
        }
        var name = string.IsNullOrWhiteSpace(user.Profile?.DisplayName) ? user.Username : user.Profile.DisplayName;
        return new Recipient(userId, name, NullIfEmpty(user.Profile?.Locale), user.Email, NullIfEmpty(user.Profile?.TimeZone));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
