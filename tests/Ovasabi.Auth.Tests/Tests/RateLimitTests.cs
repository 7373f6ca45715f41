using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Auth.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Sign-in rate limits (3 attempts per account and 5 per client address per minute): once a budget is spent the
/// answer is ResourceExhausted, even for the right password, while other accounts and addresses go on. Every test
/// uses addresses of its own (the edge proxy's x-forwarded-for), so budgets are never shared between tests.
/// </summary>
public sealed class RateLimitTests(RateLimitPlatform platform) : IClassFixture<RateLimitPlatform>
{
    [Fact]
    public async Task An_account_whose_budget_is_spent_answers_ResourceExhausted_from_any_address_while_another_account_signs_in()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var (other, otherPassword) = await platform.CreateAccountAsync();
        for (var i = 0; i < RateLimitPlatform.PerAccount; i++)
        {
            await platform.Login(user.Username, password);
        }

        var address = AuthPlatform.NewAddress();
        var error = await FailsAsync(StatusCode.ResourceExhausted, () => platform.Login(user.Username, password, address));

        Assert.Equal("SIGN_IN_RATE_LIMITED", Reason(error));
        Assert.Contains("this account", error.Status.Detail, StringComparison.Ordinal);
        await platform.Login(other.Username, otherPassword, address);
    }

    [Fact]
    public async Task An_address_whose_budget_is_spent_answers_ResourceExhausted_for_logins_and_refreshes_while_another_address_signs_in()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var address = AuthPlatform.NewAddress();
        for (var i = 0; i < RateLimitPlatform.PerAddress; i++)
        {
            await FailsAsync(StatusCode.Unauthenticated, () => platform.Login("nobody-" + Guid.NewGuid().ToString("N")[..10], "whatever it is", address));
        }

        var login = await FailsAsync(StatusCode.ResourceExhausted, () => platform.Login(user.Username, password, address));
        var refresh = await FailsAsync(StatusCode.ResourceExhausted, () =>
            platform.AuthClient().RefreshAsync(new RefreshRequest { RefreshToken = "any" }, AuthPlatform.From(address), cancellationToken: Cancel));

        Assert.Contains("this client address", login.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("SIGN_IN_RATE_LIMITED", Reason(refresh));
        await platform.Login(user.Username, password, AuthPlatform.NewAddress());
    }

    [Fact]
    public async Task Made_up_x_forwarded_for_entries_before_the_edge_proxys_do_not_escape_the_address_budget()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var address = AuthPlatform.NewAddress();
        for (var i = 0; i < RateLimitPlatform.PerAddress; i++)
        {
            await FailsAsync(StatusCode.Unauthenticated, () => platform.Login("nobody-" + Guid.NewGuid().ToString("N")[..10], "whatever it is", $"{AuthPlatform.NewAddress()}, {address}"));
        }

        var error = await FailsAsync(StatusCode.ResourceExhausted, () => platform.Login(user.Username, password, $"{AuthPlatform.NewAddress()}, {address}"));

        Assert.Contains("this client address", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_ups_from_an_address_whose_budget_is_spent_are_ResourceExhausted_while_another_address_signs_up()
    {
        var address = AuthPlatform.NewAddress();
        for (var i = 0; i < RateLimitPlatform.PerAddress; i++)
        {
            await platform.UserClient().CreateUserAsync(NewUser(), AuthPlatform.From(address), cancellationToken: Cancel);
        }

        var refused = NewUser();
        var error = await FailsAsync(StatusCode.ResourceExhausted, () => platform.UserClient().CreateUserAsync(refused, AuthPlatform.From(address), cancellationToken: Cancel));

        Assert.Equal("SIGN_UP_RATE_LIMITED", Reason(error));
        await FailsAsync(StatusCode.NotFound, () => platform.UserClient(platform.Admin.AccessToken).GetUserAsync(new Ovasabi.User.V1.GetUserRequest { Username = refused.Username }, cancellationToken: Cancel));
        await platform.UserClient().CreateUserAsync(NewUser(), AuthPlatform.From(AuthPlatform.NewAddress()), cancellationToken: Cancel);
    }

    [Fact]
    public async Task Password_changes_of_an_account_whose_budget_is_spent_are_ResourceExhausted_even_with_the_right_password()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var users = platform.UserClient((await platform.Login(user.Username, password)).AccessToken);
        Ovasabi.User.V1.ChangePasswordRequest Change(string current) => new() { UserId = user.UserId, CurrentPassword = current, NewPassword = "a brand new passphrase" };
        for (var i = 0; i < RateLimitPlatform.PerAccount; i++)
        {
            await FailsAsync(StatusCode.Unauthenticated, () => users.ChangePasswordAsync(Change($"a guess {i}"), cancellationToken: Cancel));
        }

        var error = await FailsAsync(StatusCode.ResourceExhausted, () => users.ChangePasswordAsync(Change(password), cancellationToken: Cancel));

        Assert.Equal("PASSWORD_CHANGE_RATE_LIMITED", Reason(error));
    }

    private static Ovasabi.User.V1.CreateUserRequest NewUser() => new()
    {
        Username = "u" + Guid.NewGuid().ToString("N")[..10], Email = $"{Guid.NewGuid():N}@example.com", Password = "correct horse battery",
    };
}
