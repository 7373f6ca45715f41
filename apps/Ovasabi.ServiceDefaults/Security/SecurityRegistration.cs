using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Ovasabi.Auth.V1;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.Security;

public static class SecurityRegistration
{
    /// <summary>
    /// Caller checks for every RPC: access tokens verified with the auth service's published keys (an app that signs
    /// tokens itself registers its own <see cref="ISigningKeySource"/> after this), sessions looked up in the shared store.
    /// </summary>
    public static IServiceCollection AddServiceSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<SecurityOptions>(SecurityOptions.Section, SecurityOptions.Problems)
            .PostConfigure(o => o.AppApiToken = string.IsNullOrEmpty(configuration["APP_API_TOKEN"]) ? null : configuration["APP_API_TOKEN"]);
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<RecentTokens>();
        services.AddSettings<LockoutOptions>(LockoutOptions.Section, LockoutOptions.Problems);
        services.AddSingleton<SignInLockout>();
        services.AddSingleton<AccessTokenValidator>();
        services.AddSingleton<AuthorizationInterceptor>();
        services.AddServiceClient<AuthService.AuthServiceClient>();
        services.AddSingleton<ISigningKeySource, RemoteJwksSource>();
        return services;
    }
}
