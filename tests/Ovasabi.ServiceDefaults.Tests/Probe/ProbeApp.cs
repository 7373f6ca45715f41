using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Jobs;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;

namespace Ovasabi.ServiceDefaults.Tests.Probe;

/// <summary>
/// The probe's Program.cs, as an app writes it (<c>apps/user/Program.cs</c>): the library's one-call hosting plus the
/// probe's own services. Configuration comes in memory instead of the environment, so several probes share a process.
/// </summary>
public static class ProbeApp
{
    public const string Name = "probe";

    /// <summary>The setting that names the probe's topic prefix (<see cref="ProbeTopics"/>).</summary>
    public const string TopicPrefixSetting = "Probe:TopicPrefix";

    public static WebApplication Build(IReadOnlyDictionary<string, string?> settings, ILoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults<ProbeDbContext>(Name);

        // Test-only: log lines go to memory (the test quotes them) instead of the console, and the container is
        // validated at build so a registration the library gets wrong fails start-up.
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }
        builder.Host.UseDefaultServiceProvider(o =>
        {
            o.ValidateScopes = true;
            o.ValidateOnBuild = true;
        });

        var topics = new ProbeTopics(builder.Configuration[TopicPrefixSetting] ?? Name);
        builder.Services
            .AddSingleton(topics)
            .AddSingleton<ItemLoads>()
            .AddSingleton<DeliveryCounter>()
            .AddEventHandler<Signal, SignalHandler>(topics.Signal, deadLetterTopic: topics.SignalDeadLetter)
            .AddEventHandler<Note, NoteHandler>(topics.Note)
            .AddJobHandler<Signal, SignalJobHandler>(SignalJobHandler.NamePrefix);

        var app = builder.Build();
        app.MapServiceDefaults<ProbeDbContext>().MapServiceGrpc<ProbeService>();
        return app;
    }
}
