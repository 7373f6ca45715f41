using Ovasabi.User.Data;
using Ovasabi.User.Domain;

namespace Ovasabi.User;

public static class UserServiceRegistration
{
    /// <summary>What the user service adds to the shared defaults: password hashing and list paging.</summary>
    public static IServiceCollection AddUserService(this IServiceCollection services, IConfiguration configuration) =>
        services
            .AddSingleton<PasswordHasher>()
            .AddSingleton(UserPaging.FromConfiguration(configuration));
}
