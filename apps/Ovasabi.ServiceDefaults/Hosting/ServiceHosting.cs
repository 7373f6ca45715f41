using System.Net;
using Dapr.Client;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ovasabi.ServiceDefaults.Caching;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Health;
using Ovasabi.ServiceDefaults.Jobs;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.ServiceDefaults.Telemetry;

namespace Ovasabi.ServiceDefaults.Hosting;

/// <summary>
/// The one call each app makes: <c>builder.AddServiceDefaults&lt;UserDbContext&gt;("user")</c>, then
/// <c>app.MapServiceDefaults&lt;UserDbContext&gt;().MapServiceGrpc&lt;UserService&gt;()</c> and <c>app.RunServiceAsync(args)</c>.
/// </summary>
public static class ServiceHosting
{
    /// <summary>The command that applies pending migrations and exits (a Kubernetes Job or an init step runs it).</summary>
    public const string MigrateCommand = "migrate";

    public static WebApplicationBuilder AddServiceDefaults<TDb>(this WebApplicationBuilder builder, string name) where TDb : ServiceDbContext
    {
        var options = ServiceOptions.From(builder.Configuration, name);
        var services = builder.Services;
        services.AddSingleton(options).AddSingleton(Options.Create(options));
        services.TryAddSingleton(TimeProvider.System);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = IPAddress.Parse(options.ListenAddress);
            // Plaintext gRPC needs an HTTP/2-only endpoint; probes and Prometheus speak HTTP/1.1.
            kestrel.Listen(address, options.GrpcPort, o => o.Protocols = HttpProtocols.Http2);
            kestrel.Listen(address, options.ManagementPort, o => o.Protocols = HttpProtocols.Http1);
        });
        builder.AddServiceTelemetry(options);

        // Errors are mapped around the request limits and the authorization check, so their refusals get codes too;
        // the limits come first, before anything reads a field.
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<ExceptionMappingInterceptor>();
            grpc.Interceptors.Add<RequestLimits>();
            grpc.Interceptors.Add<AuthorizationInterceptor>();
        });
        services.AddServiceSecurity(builder.Configuration);
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks(o => o.Services.Map("", result => result.Tags.Contains(HealthEndpoints.ReadyTag)));
        services.AddServiceHealthChecks<TDb>();

        // Reconnect to a restarted sidecar within seconds (gRPC's default backoff grows to two minutes), so the
        // outbox and cache resume promptly; cancellation surfaces as OperationCanceledException, as the SDK sets it.
        services.AddDaprClient(dapr => dapr.UseGrpcChannelOptions(SidecarChannelOptions()));
        services.AddSingleton(provider => SidecarApiClient(provider.GetRequiredService<IConfiguration>()));
        services.AddSingleton<JobScheduler>();
        services.AddSingleton<JobDispatcher>();
        // Before the dispatcher: hosted services start in order, and nothing should talk to Dapr before it answers.
        services.AddHostedService<SidecarStartup>();

        var connectionString = builder.Configuration.GetConnectionString("Database")
            ?? throw new InvalidOperationException($"{name}: ConnectionStrings:Database is not set (env ConnectionStrings__Database)");
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<CommitCallbacks>();
        // Pooled: a context's options are built once, and a request that never touches the database (a cache hit) no
        // longer pays for building them and a context (a sixth of a cached read's CPU).
        services.AddDbContextPool<TDb>((provider, db) => db
            .UseNpgsql(connectionString)
            .UseSnakeCaseNamingConvention()
            .AddInterceptors(provider.GetRequiredService<OutboxSignal>(), provider.GetRequiredService<CommitCallbacks>()));
        services.AddHostedService<OutboxDispatcher<TDb>>();
        services.AddSettings<StateStoreBreakerOptions>(StateStoreBreakerOptions.Section, StateStoreBreakerOptions.Problems);
        services.AddSingleton<StateStoreBreaker>();
        services.AddSingleton<StateCache>();
        return builder;
    }

    /// <summary>
    /// The management port serves only /healthz, /readyz and /metrics, from its own branch of the pipeline (chosen by
    /// the connection's local port, not the Host header a caller controls); everything else (gRPC health, reflection,
    /// Dapr's AppCallback and the app's services) is served on the gRPC port only.
    /// </summary>
    /// <param name="app">The app.</param>
    /// <param name="management">Further HTTP endpoints for the management port (e.g. auth's /.well-known/jwks.json).</param>
    public static WebApplication MapServiceDefaults<TDb>(this WebApplication app, Action<IEndpointRouteBuilder>? management = null) where TDb : ServiceDbContext
    {
        var options = app.Services.GetRequiredService<ServiceOptions>();
        app.MapWhen(context => context.Connection.LocalPort == options.ManagementPort, branch =>
        {
            branch.UseRouting();
            branch.UseEndpoints(endpoints =>
            {
                endpoints.MapServiceHealth();
                endpoints.MapPrometheusScrapingEndpoint("/metrics");
                management?.Invoke(endpoints);
            });
        });
        // Explicitly after the branch, so management requests never reach the gRPC endpoints.
        app.UseRouting();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapServiceGrpc<EventCallbackService<TDb>>();
        return app;
    }

    /// <summary>Maps one of the app's gRPC services (served on the gRPC port).</summary>
    public static WebApplication MapServiceGrpc<TService>(this WebApplication app) where TService : class
    {
        app.MapGrpcService<TService>();
        return app;
    }

    /// <summary>
    /// Runs the app; with the argument <c>migrate</c> applies the database migrations and exits (<c>migrate
    /// &lt;migration&gt;</c> goes to that one, forward or back, e.g. before rolling back a release), and with
    /// <c>Service:MigrateOnStartup</c> applies them before serving.
    /// </summary>
    public static async Task<int> RunServiceAsync<TDb>(this WebApplication app, string[] args) where TDb : ServiceDbContext
    {
        var options = app.Services.GetRequiredService<ServiceOptions>();
        var command = Array.IndexOf(args, MigrateCommand);
        var migrateOnly = command >= 0;
        var target = migrateOnly && command + 1 < args.Length ? args[command + 1] : null;
        if (migrateOnly || options.MigrateOnStartup)
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TDb>();
            var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
            if (target is not null)
            {
                if (!db.Database.GetMigrations().Contains(target, StringComparer.Ordinal))
                {
                    app.Logger.LogError("{Service}: there is no migration {Target}; the migrations are {Migrations}", options.Name, target, string.Join(", ", db.Database.GetMigrations()));
                    return 2;
                }
                await db.GetService<IMigrator>().MigrateAsync(target);
                app.Logger.LogInformation("{Service}: migrated to {Target}", options.Name, target);
                return 0;
            }
            await db.Database.MigrateAsync();
            app.Logger.LogInformation("{Service}: applied {Count} migration(s): {Migrations}", options.Name, pending.Count, string.Join(", ", pending));
            if (migrateOnly)
            {
                return 0;
            }
        }
        await app.RunAsync();
        return 0;
    }

    private static global::Grpc.Net.Client.GrpcChannelOptions SidecarChannelOptions() => new()
    {
        ThrowOperationCanceledOnCancellation = true,
        InitialReconnectBackoff = TimeSpan.FromMilliseconds(200),
        MaxReconnectBackoff = TimeSpan.FromSeconds(2),
    };

    /// <summary>The sidecar's gRPC API, where the Dapr SDK looks for it (DAPR_GRPC_ENDPOINT, else DAPR_GRPC_PORT on loopback).</summary>
    private static string SidecarGrpcEndpoint(IConfiguration configuration) =>
        configuration["DAPR_GRPC_ENDPOINT"] ?? $"http://127.0.0.1:{configuration["DAPR_GRPC_PORT"] ?? "50001"}";

    /// <summary>
    /// The generated client of the sidecar's API, for what the SDK's DaprClient lacks (the Jobs API), with the same
    /// endpoint, API token and reconnect backoff.
    /// </summary>
    private static global::Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient SidecarApiClient(IConfiguration configuration)
    {
        var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(SidecarGrpcEndpoint(configuration), SidecarChannelOptions());
        var token = configuration["DAPR_API_TOKEN"];
        return new(global::Grpc.Core.Interceptors.CallInvokerExtensions.Intercept(channel.CreateCallInvoker(), metadata =>
        {
            if (!string.IsNullOrEmpty(token))
            {
                metadata.Add("dapr-api-token", token);
            }
            return metadata;
        }));
    }

    /// <summary>
    /// A typed gRPC client that calls, through the sidecar (gRPC proxying, dapr-app-id), the app the access table
    /// says serves the client's service.
    /// </summary>
    public static IServiceCollection AddServiceClient<TClient>(this IServiceCollection services) where TClient : ClientBase<TClient>
    {
        var descriptor = typeof(TClient).DeclaringType?.GetProperty("Descriptor")?.GetValue(null) as Google.Protobuf.Reflection.ServiceDescriptor
            ?? throw new InvalidOperationException($"{typeof(TClient)} is not a generated gRPC client");
        var appId = AccessPolicy.AppServing(descriptor.FullName)
            ?? throw new InvalidOperationException($"no app of protos/ovasabi/access.yaml serves {descriptor.FullName}");
        services.AddSingleton(provider =>
        {
            var configuration = provider.GetRequiredService<IConfiguration>();
            var invoker = DaprClient.CreateInvocationInvoker(appId, SidecarGrpcEndpoint(configuration), configuration["DAPR_API_TOKEN"]);
            return (TClient)Activator.CreateInstance(typeof(TClient), invoker)!;
        });
        return services;
    }
}

/// <summary>
/// Waits for the sidecar's outbound API before the app serves. It must not wait for the sidecar's full health: daprd
/// reports healthy only after the app's port opens, so that wait would never end.
/// </summary>
public sealed class SidecarStartup(DaprClient dapr, ServiceOptions options, ILogger<SidecarStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.WaitForSidecar)
        {
            return;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.SidecarTimeout);
        try
        {
            await dapr.WaitForSidecarAsync(timeout.Token);
            logger.LogInformation("The Dapr sidecar answers");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"{options.Name}: the Dapr sidecar did not answer within {options.SidecarTimeout.TotalSeconds:0} s (DAPR_HTTP_PORT / DAPR_HTTP_ENDPOINT)");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
