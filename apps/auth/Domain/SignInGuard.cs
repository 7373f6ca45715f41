using Microsoft.Extensions.Options;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Auth.Domain;

/// <summary>
/// Rate limits on sign-in and refresh: sliding windows per account and per client address, in memory (so per replica).
/// The lockout, shared with every other place a password is checked, is <see cref="SignInLockout"/>.
/// </summary>
public sealed class SignInGuard(IOptions<AuthOptions> options) : IDisposable
{
    private readonly KeyedRateLimit _perAccount = new(options.Value.RateLimits.PerAccount, options.Value.RateLimits.Window, "SIGN_IN_RATE_LIMITED");
    private readonly KeyedRateLimit _perAddress = new(options.Value.RateLimits.PerAddress, options.Value.RateLimits.Window, "SIGN_IN_RATE_LIMITED");

    /// <summary>Takes one attempt from the client address's budget; ResourceExhausted when it is spent.</summary>
    public void AdmitAddress(string address) => _perAddress.Admit(address, "sign-in attempts from this client address");

    /// <summary>Takes one attempt from the account's budget (keyed like the lockout counters); ResourceExhausted when it is spent.</summary>
    public void AdmitAccount(string lockoutKey) => _perAccount.Admit(lockoutKey, "sign-in attempts for this account");

    public void Dispose()
    {
        _perAccount.Dispose();
        _perAddress.Dispose();
    }
}
