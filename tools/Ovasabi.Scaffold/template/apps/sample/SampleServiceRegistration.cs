using Ovasabi.Sample.Data;
using Ovasabi.Sample.Domain;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.Sample;

public static class SampleServiceRegistration
{
    /// <summary>What the sample service adds to the shared defaults: its settings and its store.</summary>
    public static IServiceCollection AddSampleService(this IServiceCollection services)
    {
        services.AddSettings<SampleOptions>(SampleOptions.Section, SampleOptions.Problems);
        services.AddScoped<ItemStore>();
        return services;
    }
}
