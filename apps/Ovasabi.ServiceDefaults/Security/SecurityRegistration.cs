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
        var options = SecurityOptions.From(configuration);
        services.AddSingleton(options);
        services.AddSingleton<SessionRegistry>();
        services.AddOptions<LockoutOptions>().BindConfiguration(LockoutOptions.Section)
            .Validate(o => o.MaxFailures > 0 && o.BaseBackoff > TimeSpan.Zero && o.MaxBackoff >= o.BaseBackoff && o.Memory > TimeSpan.Zero,
                $"{LockoutOptions.Section}: MaxFailures and the durations must be positive, MaxBackoff at least BaseBackoff")
            .ValidateOnStart();
        services.AddSingleton<SignInLockout>();
        services.AddSingleton<AccessTokenValidator>();
        services.AddSingleton<AuthorizationInterceptor>();
        services.AddServiceClient<AuthService.AuthServiceClient>(options.AuthAppId);
        services.AddSingleton<ISigningKeySource, RemoteJwksSource>();
        return services;
    }
}
