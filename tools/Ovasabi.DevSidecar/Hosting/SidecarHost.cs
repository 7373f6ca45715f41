using System.Net;
using System.Net.Sockets;
using Grpc.AspNetCore.Server.Model;
using Grpc.Net.Client;
using Ovasabi.DevSidecar.Api;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.GrpcApi;
using Ovasabi.DevSidecar.HttpApi;
using Ovasabi.DevSidecar.Invocation;
using Ovasabi.DevSidecar.Jobs;
using Ovasabi.DevSidecar.Messaging;
using Ovasabi.DevSidecar.Observability;
using Ovasabi.DevSidecar.Resiliency;
using Ovasabi.DevSidecar.Resources;

namespace Ovasabi.DevSidecar.Hosting;

/// <summary>
/// One running sidecar for one app ID: loads resources and components, serves daprd's HTTP, gRPC, internal and metrics
/// ports, registers with name resolution, then waits for the app and starts its subscriptions (daprd's start-up order).
/// </summary>
public sealed class SidecarHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private Task _background = Task.CompletedTask;

    private SidecarHost(WebApplication app, SidecarOptions options)
    {
        _app = app;
        Options = options;
    }

    /// <summary>The options with every port resolved.</summary>
    public SidecarOptions Options { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// The default location of the shared name-resolution database when the Configuration names none: under the user's
    /// own ~/.dapr (like the Dapr CLI's files), never a shared folder such as /tmp, where another local user could add
    /// entries and receive the calls meant for an app.
    /// </summary>
    public static string DefaultNameResolutionPath =>
        Environment.GetEnvironmentVariable("DAPR_DEV_NAME_RESOLUTION_DB") is { Length: > 0 } path
            ? path
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dapr", "dev-sidecar-nameresolution.db");

    /// <summary>
    /// Where jobs are kept (Dapr's scheduler keeps them in etcd): one file for the user's sidecars, so jobs survive
    /// sidecar and app restarts and every replica of an app ID shares them.
    /// </summary>
    public static string DefaultJobStorePath =>
        Environment.GetEnvironmentVariable("DAPR_DEV_SCHEDULER_DB") is { Length: > 0 } path
            ? path
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dapr", "dev-sidecar-scheduler.db");

    /// <exception cref="ResourceException">a resource, configuration or component is refused</exception>
    /// <exception cref="ComponentConfigurationException">a component's metadata is refused</exception>
    public static async Task<SidecarHost> StartAsync(SidecarOptions requested, Action<ILoggingBuilder> configureLogging, CancellationToken cancellationToken)
    {
        var options = requested with
        {
            HttpPort = PortOrFree(requested.HttpPort),
            GrpcPort = PortOrFree(requested.GrpcPort),
            InternalGrpcPort = PortOrFree(requested.InternalGrpcPort),
            MetricsPort = requested.EnableMetrics ? PortOrFree(requested.MetricsPort) : 0,
        };
        if (options.AppProtocol is not ("http" or "grpc"))
        {
            throw new ArgumentException($"--app-protocol {options.AppProtocol} is not supported by the dev sidecar (use http or grpc)");
        }

        using var bootstrapLogging = LoggerFactory.Create(configureLogging);
        var time = TimeProvider.System;
        var resources = ResourceSet.Load(options.ResourcesPaths, options.AppId, options.Namespace, bootstrapLogging.CreateLogger<ResourceSet>());
        var configuration = SidecarConfiguration.Load(options.ConfigPath);
        var resiliency = new ResiliencyPolicies(resources.Resiliencies, time);
        var subscriptions = DeclarativeSubscriptions.From(resources);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = options.WorkingDirectory });
        builder.Logging.ClearProviders();
        configureLogging(builder.Logging);
        builder.Services.AddSingleton<IHostLifetime, ExternallyControlledLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var address in ListenAddresses(options.ListenAddresses))
            {
                kestrel.Listen(address, options.HttpPort, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1);
                kestrel.Listen(address, options.GrpcPort, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
                if (options.MetricsPort > 0)
                {
                    kestrel.Listen(address, options.MetricsPort, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1);
                }
            }
            // Sidecar-to-sidecar traffic; daprd secures it with mTLS, the dev sidecar keeps it on loopback.
            kestrel.Listen(IPAddress.Loopback, options.InternalGrpcPort, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
            kestrel.Limits.MaxRequestBodySize = null;
        });

        var components = await ComponentRegistry.CreateAsync(resources.Components,
            new ComponentContext(options.AppId, options.Namespace, options.WorkingDirectory, bootstrapLogging, time), cancellationToken);
        try
        {
            ConfigureServices(builder.Services, options, resources, configuration, resiliency, subscriptions, components, time);
            var app = builder.Build();
            ConfigurePipeline(app, options);
            var host = new SidecarHost(app, options);
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await app.DisposeAsync();
                throw new InvalidOperationException($"cannot listen: {e.Message} (ports http {options.HttpPort}, grpc {options.GrpcPort}, internal {options.InternalGrpcPort}, metrics {options.MetricsPort})", e);
            }
            app.Services.GetRequiredService<SidecarReadiness>().MarkOutboundReady();
            await app.Services.GetRequiredService<INameResolver>().RegisterAsync(options.AppId, $"127.0.0.1:{options.InternalGrpcPort}", cancellationToken);
            host._background = host.RunAppLifecycleAsync();
            app.Logger.LogInformation("dapr dev sidecar for {AppId} serving: http {HttpPort}, grpc {GrpcPort}, internal {InternalPort}, metrics {MetricsPort}, app {AppProtocol}:{AppPort}",
                options.AppId, options.HttpPort, options.GrpcPort, options.InternalGrpcPort, options.MetricsPort, options.AppProtocol, options.AppPort);
            return host;
        }
        catch
        {
            await components.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for the app port, starts subscriptions, reports ready, then watches app health when enabled.</summary>
    private async Task RunAppLifecycleAsync()
    {
        var services = _app.Services;
        var app = services.GetRequiredService<AppConnection>();
        try
        {
            await app.WaitForAppPortAsync(_stopping.Token);
            await services.GetRequiredService<SubscriptionManager>().StartAsync(_stopping.Token);
            services.GetRequiredService<SidecarReadiness>().MarkReady();
            _app.Logger.LogInformation("dapr dev sidecar for {AppId} is ready", Options.AppId);
            await Task.WhenAll(app.MonitorHealthAsync(_stopping.Token), services.GetRequiredService<JobTriggers>().RunAsync(_stopping.Token));
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // shutting down
        }
        catch (Exception e)
        {
            _app.Logger.LogError(e, "The app lifecycle of {AppId} failed", Options.AppId);
        }
    }

    private static void ConfigureServices(IServiceCollection services, SidecarOptions options, ResourceSet resources, SidecarConfiguration configuration,
        ResiliencyPolicies resiliency, DeclarativeSubscriptions subscriptions, ComponentRegistry components, TimeProvider time)
    {
        services.AddSingleton(options);
        services.AddSingleton(resources);
        services.AddSingleton(subscriptions);
        services.AddSingleton(configuration);
        services.AddSingleton(resiliency);
        services.AddSingleton(components);
        services.AddSingleton(time);
        services.AddSingleton<SidecarReadiness>();
        services.AddSingleton<SidecarMetrics>();
        services.AddSingleton(new AccessControl(configuration.Spec.AccessControl, appIsHttp: !options.IsGrpcApp));
        services.AddSingleton<ApiTokenCheck>();
        services.AddSingleton<INameResolver>(sp => SqliteNameResolver.FromConfiguration(
            configuration.Spec.NameResolution?.Configuration, DefaultNameResolutionPath, options.WorkingDirectory, time,
            sp.GetRequiredService<ILogger<SqliteNameResolver>>()));
        services.AddHttpClient(ServiceInvocation.InternalClient, client =>
            {
                client.DefaultRequestVersion = HttpVersion.Version20;
                client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false, EnableMultipleHttp2Connections = true });
        services.AddHttpClient(nameof(HttpAppChannel), client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false });
        services.AddSingleton(sp => new AppConnection(options, CreateAppChannel(sp, options), time, sp.GetRequiredService<ILogger<AppConnection>>()));
        services.AddSingleton<StateApi>();
        services.AddSingleton<PubSubApi>();
        services.AddSingleton<BindingApi>();
        services.AddSingleton<MetadataApi>();
        services.AddSingleton(new JobStore(DefaultJobStorePath));
        services.AddSingleton<JobTriggers>();
        services.AddSingleton<JobsApi>();
        services.AddSingleton<SubscriptionManager>();
        services.AddSingleton<ServiceInvocation>();
        services.AddSingleton<GrpcProxy>();
        services.AddHttpForwarder();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, options.MaxBodySize);
            grpc.MaxSendMessageSize = null;
        });
        services.AddSingleton<IServiceMethodProvider<DaprGrpcApi>, DaprMethodProvider>();
        services.AddSingleton<DaprGrpcApi>();
        services.AddSidecarTelemetry(options, configuration);
    }

    private static IAppChannel? CreateAppChannel(IServiceProvider services, SidecarOptions options)
    {
        if (options.AppPort <= 0)
        {
            return null;
        }
        var appBase = new Uri($"http://{FormatHost(options.AppChannelAddress)}:{options.AppPort}");
        if (options.IsGrpcApp)
        {
            var channel = GrpcChannel.ForAddress(appBase, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { UseProxy = false, EnableMultipleHttp2Connections = true },
                MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, options.MaxBodySize),
            });
            return new GrpcAppChannel(channel, options.AppApiToken);
        }
        return new HttpAppChannel(services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(HttpAppChannel)), appBase, options.AppApiToken,
            services.GetRequiredService<ILogger<HttpAppChannel>>());
    }

    private static void ConfigurePipeline(WebApplication app, SidecarOptions options)
    {
        var tokens = app.Services.GetRequiredService<ApiTokenCheck>();
        var proxy = app.Services.GetRequiredService<GrpcProxy>();

        app.MapWhen(c => c.Connection.LocalPort == options.GrpcPort, grpc =>
        {
            grpc.Use(async (context, next) =>
            {
                if (tokens.Check(context) is { } reason)
                {
                    await ApiTokenCheck.WriteGrpcRejectionAsync(context, reason);
                    return;
                }
                if (GrpcProxy.IsProxyCall(context))
                {
                    await proxy.ForwardToSidecarAsync(context);
                    return;
                }
                await next(context);
            });
            grpc.UseRouting();
            grpc.UseEndpoints(e => e.MapGrpcService<DaprGrpcApi>());
        });

        app.MapWhen(c => c.Connection.LocalPort == options.InternalGrpcPort, inbound =>
        {
            inbound.Use(async (context, next) =>
            {
                if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
                {
                    await proxy.ForwardToAppAsync(context);
                    return;
                }
                await next(context);
            });
            inbound.Use(HttpEndpoints.HandleErrorsAsync);
            inbound.UseRouting();
            inbound.UseEndpoints(InternalEndpoints.Map);
        });

        app.MapWhen(c => c.Connection.LocalPort == options.HttpPort, http =>
        {
            http.Use(async (context, next) =>
            {
                if (!ApiTokenCheck.IsHealthRoute(context.Request.Path) && tokens.Check(context) is not null)
                {
                    await ApiTokenCheck.WriteHttpRejectionAsync(context);
                    return;
                }
                await next(context);
            });
            http.Use(HttpEndpoints.HandleErrorsAsync);
            http.UseRouting();
            http.UseEndpoints(HttpEndpoints.Map);
        });

        if (options.MetricsPort > 0)
        {
            app.MapWhen(c => c.Connection.LocalPort == options.MetricsPort, metrics =>
            {
                metrics.UseRouting();
                metrics.UseEndpoints(e =>
                {
                    // daprd serves its metrics on "/" (the path its Kubernetes scrape annotations name); /metrics is kept too.
                    e.MapPrometheusScrapingEndpoint("/");
                    e.MapPrometheusScrapingEndpoint("/metrics");
                });
            });
        }
    }

    private static IEnumerable<IPAddress> ListenAddresses(IReadOnlyList<string> addresses) =>
        addresses.SelectMany<string, IPAddress>(a => a.Trim() switch
        {
            "localhost" => [IPAddress.Loopback],
            "0.0.0.0" or "*" => [IPAddress.Any],
            var text => [IPAddress.Parse(text.Trim('[', ']'))],
        }).Distinct();

    private static string FormatHost(string address) => IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address;

    private static int PortOrFree(int port)
    {
        if (port > 0)
        {
            return port;
        }
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops consuming, leaves name resolution, stops serving, closes components — daprd's shutdown order.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _background;
        await _app.Services.GetRequiredService<SubscriptionManager>().DisposeAsync();
        await _app.Services.GetRequiredService<INameResolver>().DisposeAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(timeout.Token);
        }
        // The container disposes what it created (the app connection); the components were created before it.
        var components = _app.Services.GetRequiredService<ComponentRegistry>();
        await _app.DisposeAsync();
        await components.DisposeAsync();
        _stopping.Dispose();
    }

    /// <summary>Shutdown is driven by the command line (one process may host several sidecars), not by console signals.</summary>
    private sealed class ExternallyControlledLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
