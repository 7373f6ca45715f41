using Microsoft.Extensions.Options;
using Ovasabi.Contracts;
using Ovasabi.Finance.Data;
using Ovasabi.Finance.Grpc;
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
        services.AddSettings<FinanceOptions>(FinanceOptions.Section, FinanceOptions.Problems);
        services.AddSingleton(provider => new Currencies(provider.GetRequiredService<IOptions<FinanceOptions>>().Value));
        services.AddScoped<Ledger>();
        services.AddScoped<BalanceReader>();
        services.AddSingleton<CommittedVersions>();
        var pageTokenKey = PageToken.KeyFrom(configuration, "finance");
        services.AddScoped(provider => ActivatorUtilities.CreateInstance<TransactionHistory>(provider, pageTokenKey));
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<IActiveUsers>(provider => provider.GetRequiredService<UserDirectory>());
        services.AddServiceClient<UserService.UserServiceClient>();
        services.AddEventHandler<UserSuspended, UserLifecycleHandlers>(TopicName.Of(UserTopic.UserSuspended));
        services.AddEventHandler<UserDeleted, UserLifecycleHandlers>(TopicName.Of(UserTopic.UserDeleted));
        return services;
    }
}
