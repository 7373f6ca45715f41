using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.User.Data;
using Ovasabi.User.Domain;

namespace Ovasabi.User;

public static class UserServiceRegistration
{
    /// <summary>
    /// What the user service adds to the shared defaults: password hashing (bounded), rate limits, list paging, the account writes, and the
    /// bootstrap administrator when it is configured. Call after AddServiceDefaults: hosted services start in
    /// registration order, and the bootstrap must start after the sidecar answers.
    /// </summary>
    /// <exception cref="InvalidOperationException">The bootstrap administrator is configured only in part.</exception>
    public static IServiceCollection AddUserService(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<PasswordHashingOptions>(PasswordHashingOptions.Section, PasswordHashingOptions.Problems);
        services.AddSettings<UserRateLimitOptions>(UserRateLimitOptions.Section, UserRateLimitOptions.Problems);
        services
            .AddSingleton<PasswordHasher>()
            .AddSingleton<PasswordHashingGate>()
            .AddSingleton<UserRateLimits>()
            .AddSingleton(UserPaging.FromConfiguration(configuration))
            .AddScoped<UserAccounts>()
            .AddScoped<UserQueries>();
        if (BootstrapAdminSettings.From(configuration) is { } admin)
        {
            services.AddSingleton(admin).AddHostedService<BootstrapAdminService>();
        }
        return services;
    }
}
