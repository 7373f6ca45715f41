using Ovasabi.Contracts;
using Ovasabi.Finance.Domain;
using Ovasabi.Finance.Events;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;

namespace Ovasabi.Finance;

public static class FinanceServiceRegistration
{
    /// <summary>What the finance service adds to the shared defaults: its policies, the ledger, balances and the user service client.</summary>
    public static IServiceCollection AddFinanceService(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new FinanceOptions();
        configuration.GetSection("Finance").Bind(options);
        services.AddSingleton(options);
        services.AddSingleton(new Currencies(options));
        services.AddScoped<Ledger>();
        services.AddScoped<BalanceReader>();
        services.AddSingleton<CommittedVersions>();
        var pageTokenKey = PageToken.KeyFrom(configuration, "finance");
        services.AddScoped(provider => ActivatorUtilities.CreateInstance<TransactionHistory>(provider, pageTokenKey));
        services.AddSingleton<UserDirectory>();
        services.AddSingleton(TimeProvider.System);
        services.AddServiceClient<UserService.UserServiceClient>(options.UserAppId);
        services.AddEventHandler<UserSuspended, UserLifecycleHandlers>(TopicName.Of(UserTopic.UserSuspended));
        services.AddEventHandler<UserDeleted, UserLifecycleHandlers>(TopicName.Of(UserTopic.UserDeleted));
        return services;
    }
}
