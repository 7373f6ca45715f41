using Dapr.Client;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// A resources folder with a pubsub.redis component named <c>pubsub</c> plus a publisher sidecar without an app,
/// shared by a pub/sub test class. Subscribers are started per test with the subscriptions the test needs.
/// </summary>
public sealed class PubSubHarness(RedisServer redis) : IAsyncLifetime
{
    public const string PubSub = "pubsub";

    private readonly List<IAsyncDisposable> _started = [];

    public ResourceFolder Resources { get; } = new();

    public RedisServer Redis => redis;

    public SidecarProcess Publisher { get; private set; } = null!;

    public DaprClient PublisherClient { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Resources.RedisPubSub(PubSub, redis);
        Publisher = await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("publisher"), Resources.Directory));
        PublisherClient = Publisher.CreateClient();
    }

    public static string Topic(string name) => $"{name}-{Guid.NewGuid():N}";

    /// <summary>A gRPC subscriber app and its sidecar (same resources), started and ready.</summary>
    public async Task<(CallbackApp App, SidecarProcess Sidecar)> StartSubscriberAsync(string appId, Action<CallbackApp> configure, ResourceFolder? resources = null)
    {
        var app = await CallbackApp.StartAsync(appId, configure);
        _started.Add(app);
        var sidecar = await StartSidecarAsync(new SidecarLaunch(appId, (resources ?? Resources).Directory) { AppPort = app.Port });
        return (app, sidecar);
    }

    public async Task<SidecarProcess> StartSidecarAsync(SidecarLaunch launch)
    {
        var sidecar = await SidecarProcess.StartAsync(launch);
        _started.Add(sidecar);
        await sidecar.WaitReadyAsync();
        return sidecar;
    }

    public T Track<T>(T disposable) where T : IAsyncDisposable
    {
        _started.Add(disposable);
        return disposable;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var started in Enumerable.Reverse(_started))
        {
            await started.DisposeAsync();
        }
        PublisherClient?.Dispose();
        if (Publisher is not null)
        {
            await Publisher.DisposeAsync();
        }
        Resources.Dispose();
    }
}
