using Google.Protobuf;
using Ovasabi.Auth.Data;
using Ovasabi.Auth.Domain;
using Ovasabi.Auth.Events;
using Ovasabi.Contracts;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;

namespace Ovasabi.Auth;

public static class AuthServiceRegistration
{
    /// <summary>
    /// What the auth service adds to the shared defaults: its policies, signing keys (which also verify tokens here,
    /// instead of fetching its own JWKS), sessions, sign-in guard, the user service client and user lifecycle events.
    /// </summary>
    public static IServiceCollection AddAuthService(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<AuthOptions>(AuthOptions.Section, AuthOptions.Problems);
        services.AddSingleton<SigningKeyRing>();
        services.AddHostedService(provider => provider.GetRequiredService<SigningKeyRing>());
        services.AddSingleton<ISigningKeySource>(provider => provider.GetRequiredService<SigningKeyRing>());
        services.AddSingleton<ISigningCredentialsSource>(provider => provider.GetRequiredService<SigningKeyRing>());
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<SignInGuard>();
        services.AddScoped<Sessions>();
        services.AddServiceClient<UserService.UserServiceClient>();
        services.AddEventHandler<UserSuspended, UserLifecycleHandlers>(TopicName.Of(UserTopic.UserSuspended));
        services.AddEventHandler<UserDeleted, UserLifecycleHandlers>(TopicName.Of(UserTopic.UserDeleted));
        services.AddEventHandler<PasswordChanged, UserLifecycleHandlers>(TopicName.Of(UserTopic.PasswordChanged));
        return services;
    }

    /// <summary>The signing keys as an RFC 7517 JSON Web Key Set, for verifiers that speak HTTP.</summary>
    public static IEndpointRouteBuilder MapJwks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/.well-known/jwks.json", (SigningKeyRing keys) =>
            Results.Text(JsonFormatter.Default.Format(keys.Jwks), "application/json"));
        return endpoints;
    }
}
