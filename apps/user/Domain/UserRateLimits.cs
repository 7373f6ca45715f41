using Ovasabi.ServiceDefaults.Hosting;
using Microsoft.Extensions.Options;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.User.Domain;

/// <summary>Attempts per sliding window (configuration section <c>User:RateLimits</c>), in memory, so per replica.</summary>
public sealed class UserRateLimitOptions
{
    public const string Section = "User:RateLimits";

    /// <summary>Accounts created per client address (CreateUser is anonymous).</summary>
    public int SignUpsPerAddress { get; set; } = 20;

    /// <summary>Password changes per account, wrong current passwords included.</summary>
    public int PasswordChangesPerAccount { get; set; } = 5;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    public static IEnumerable<string> Problems(UserRateLimitOptions o) =>
        Settings.Check(o.SignUpsPerAddress > 0, $"{Section}:SignUpsPerAddress", "must be positive")
            .Concat(Settings.Check(o.PasswordChangesPerAccount > 0, $"{Section}:PasswordChangesPerAccount", "must be positive"))
            .Concat(Settings.Check(o.Window > TimeSpan.Zero, $"{Section}:Window", "must be positive"));
}

/// <summary>The user service's rate limits: sign-ups per client address, password changes per account.</summary>
public sealed class UserRateLimits(IOptions<UserRateLimitOptions> options) : IDisposable
{
    private readonly KeyedRateLimit _signUps = new(options.Value.SignUpsPerAddress, options.Value.Window, "SIGN_UP_RATE_LIMITED");
    private readonly KeyedRateLimit _passwordChanges = new(options.Value.PasswordChangesPerAccount, options.Value.Window, "PASSWORD_CHANGE_RATE_LIMITED");

    public void AdmitSignUp(string clientAddress) => _signUps.Admit(clientAddress, "sign-ups from this client address");

    public void AdmitPasswordChange(Guid userId) => _passwordChanges.Admit(userId.ToString(), "password changes for this account");

    public void Dispose()
    {
        _signUps.Dispose();
        _passwordChanges.Dispose();
    }
}
