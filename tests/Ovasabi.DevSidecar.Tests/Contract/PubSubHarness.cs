using Dapr.Client;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>
/// A resources folder with a pubsub.redis component named <c>pubsub</c> plus a publisher sidecar without an app,
/// shared by a pub/sub test class. Subscribers are started per test with the subscriptions the test needs.
/// </summary>
public sealed class PubSubHarness(RedisServer redis) : SidecarFixture
{
    public const string PubSub = "pubsub";

    public RedisServer Redis => redis;

    public SidecarProcess Publisher { get; private set; } = null!;

    public DaprClient PublisherClient { get; private set; } = null!;

    protected override async Task StartAsync()
    {
        Resources.RedisPubSub(PubSub, redis);
        Publisher = Own(await SidecarProcess.StartAsync(new SidecarLaunch(UniqueName.Create("publisher"), Resources.Directory)));
        PublisherClient = ClientOf(Publisher);
    }

    public static string Topic(string name) => $"{name}-{Guid.NewGuid():N}";

    /// <summary>A gRPC subscriber app and its sidecar (same resources), started and ready.</summary>
    public async Task<(CallbackApp App, SidecarProcess Sidecar)> StartSubscriberAsync(string appId, Action<CallbackApp> configure, ResourceFolder? resources = null)
    {
        var app = Own(await CallbackApp.StartAsync(appId, configure));
        var sidecar = await StartSidecarAsync(new SidecarLaunch(appId, (resources ?? Resources).Directory) { AppPort = app.Port });
        return (app, sidecar);
    }

    public async Task<SidecarProcess> StartSidecarAsync(SidecarLaunch launch)
    {
        var sidecar = Own(await SidecarProcess.StartAsync(launch));
        await sidecar.WaitReadyAsync();
        return sidecar;
    }

    /// <summary>Disposes <paramref name="disposable"/> (something a test started) with the harness.</summary>
    public T Track<T>(T disposable) where T : IAsyncDisposable => Own(disposable);
}
