using System.Diagnostics;
using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Auth.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Lockout (3 failures in a row, 2 s, doubling per lock): while locked even the right password is refused with the
/// answer a wrong one gets; once the lock ends it is accepted. Waits are polls, and durations are only checked as
/// lower bounds (a lock can never end early; a slow machine can only make it look longer).
/// </summary>
[Collection(nameof(AuthCollection))]
public sealed class LockoutTests(AuthPlatform platform)
{
    [Fact]
    public async Task After_three_wrong_passwords_the_right_one_is_refused_like_a_wrong_one_until_the_backoff_has_passed()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var locking = Stopwatch.StartNew();
        var wrong = await FailAsync(user.Username, AuthPlatform.MaxFailures);

        var refused = await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(user.Username, password));

        Assert.Equal((wrong.Status.Detail, Reason(wrong)), (refused.Status.Detail, Reason(refused)));
        var tokens = await SignInOnceUnlockedAsync(user.Username, password);
        Assert.True(locking.Elapsed >= AuthPlatform.BaseBackoff, $"signed in {locking.Elapsed} after the lock began, before the backoff of {AuthPlatform.BaseBackoff}");
        await platform.GetSelf(tokens.AccessToken, user.UserId);
    }

    [Fact]
    public async Task A_second_lock_without_a_sign_in_between_lasts_twice_as_long()
    {
        var (user, password) = await platform.CreateAccountAsync();
        await FailAsync(user.Username, AuthPlatform.MaxFailures);
        // Waiting out the first lock (it began before the last failure returned) without a successful sign-in, which
        // would forget the locks so far.
        await Task.Delay(AuthPlatform.BaseBackoff + TimeSpan.FromSeconds(1), Cancel);

        var secondLock = Stopwatch.StartNew();
        await FailAsync(user.Username, AuthPlatform.MaxFailures);

        await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(user.Username, password));
        await SignInOnceUnlockedAsync(user.Username, password);
        Assert.True(secondLock.Elapsed >= 2 * AuthPlatform.BaseBackoff, $"the second lock ended after {secondLock.Elapsed}, not twice the base backoff {AuthPlatform.BaseBackoff}");
    }

    [Fact]
    public async Task Locking_an_account_by_its_username_also_refuses_the_right_password_by_its_email_and_records_no_sign_in()
    {
        var (user, password) = await platform.CreateAccountAsync();
        await FailAsync(user.Username, AuthPlatform.MaxFailures);

        var byEmail = await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(user.Email, password));

        Assert.Equal("INVALID_CREDENTIALS", Reason(byEmail));
        var stored = await platform.UserClient(platform.Admin.AccessToken).GetUserAsync(new Ovasabi.User.V1.GetUserRequest { UserId = user.UserId }, cancellationToken: Cancel);
        Assert.Null(stored.LastLoginTime);
    }

    [Fact]
    public async Task Wrong_current_passwords_in_ChangePassword_count_toward_the_lockout_and_a_locked_account_cannot_change_its_password()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var tokens = await platform.Login(user.Username, password);
        var users = platform.UserClient(tokens.AccessToken);

        for (var i = 0; i < AuthPlatform.MaxFailures; i++)
        {
            await FailsAsync(StatusCode.Unauthenticated, () => users.ChangePasswordAsync(
                new Ovasabi.User.V1.ChangePasswordRequest { UserId = user.UserId, CurrentPassword = $"a guess {i}", NewPassword = "taken over passphrase" }, cancellationToken: Cancel));
        }

        // Locked for a password change even with the right password, and for sign-in; once the lock ends the old
        // password still signs in (the refused change changed nothing).
        var change = new Ovasabi.User.V1.ChangePasswordRequest { UserId = user.UserId, CurrentPassword = password, NewPassword = "taken over passphrase" };
        await FailsAsync(StatusCode.Unauthenticated, () => users.ChangePasswordAsync(change, cancellationToken: Cancel));
        await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(user.Username, password));
        await SignInOnceUnlockedAsync(user.Username, password);
    }

    /// <summary>Fails <paramref name="times"/> with wrong passwords (each Unauthenticated); returns the last error.</summary>
    private async Task<RpcException> FailAsync(string login, int times)
    {
        RpcException? last = null;
        for (var i = 0; i < times; i++)
        {
            last = await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(login, $"wrong password {i}"));
        }
        return last!;
    }

    /// <summary>Tries the right password every half second until it is accepted.</summary>
    private async Task<TokenPair> SignInOnceUnlockedAsync(string login, string password)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await platform.Login(login, password);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, Cancel);
            }
        }
    }
}
