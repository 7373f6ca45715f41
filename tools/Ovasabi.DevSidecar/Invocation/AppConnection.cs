using System.Net.Sockets;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>
/// The sidecar's link to its app: waits for the app port, optionally probes app health (daprd's app health checks)
/// and limits concurrent calls (<c>--app-max-concurrency</c>). Every call into the app goes through here.
/// </summary>
public sealed class AppConnection(SidecarOptions options, IAppChannel? inner, TimeProvider time, ILogger<AppConnection> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim? _limit = options.AppMaxConcurrency > 0 ? new SemaphoreSlim(options.AppMaxConcurrency) : null;
    private volatile bool _healthy = true;

    /// <summary>The channel, or null when the sidecar runs without an app port.</summary>
    public IAppChannel? Channel => inner;

    public bool IsHealthy => _healthy;

    public event Action<bool>? HealthChanged;

    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        if (_limit is null)
        {
            return NoSlot.Instance;
        }
        await _limit.WaitAsync(cancellationToken);
        return new Slot(_limit);
    }

    /// <summary>Blocks until the app's port accepts TCP connections, as daprd does before it reports ready.</summary>
    public async Task WaitForAppPortAsync(CancellationToken cancellationToken)
    {
        if (options.AppPort <= 0)
        {
            return;
        }
        var logged = false;
        while (true)
        {
            using var client = new TcpClient();
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromMilliseconds(500));
            try
            {
                await client.ConnectAsync(options.AppChannelAddress, options.AppPort, attempt.Token);
                logger.LogInformation("App port {Port} is open", options.AppPort);
                return;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (!logged)
                {
                    logger.LogInformation("Waiting for the app on {Address}:{Port}", options.AppChannelAddress, options.AppPort);
                    logged = true;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
            }
        }
    }

    /// <summary>Probes the app every interval; unhealthy after <c>threshold</c> straight failures, healthy again after one success.</summary>
    public async Task MonitorHealthAsync(CancellationToken cancellationToken)
    {
        if (inner is null || !options.EnableAppHealthCheck)
        {
            return;
        }
        var failures = 0;
        using var timer = new PeriodicTimer(options.AppHealthProbeInterval, time);
        do
        {
            var ok = await inner.IsHealthyAsync(options.AppHealthCheckPath, options.AppHealthProbeTimeout, cancellationToken);
            failures = ok ? 0 : failures + 1;
            var healthy = ok || (_healthy && failures < options.AppHealthThreshold);
            if (healthy != _healthy)
            {
                _healthy = healthy;
                logger.LogWarning("App health changed: {State}", healthy ? "healthy" : "unhealthy");
                HealthChanged?.Invoke(healthy);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        if (inner is not null)
        {
            await inner.DisposeAsync();
        }
        _limit?.Dispose();
    }

    private sealed class Slot(SemaphoreSlim limit) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                limit.Release();
            }
        }
    }

    private sealed class NoSlot : IDisposable
    {
        public static readonly NoSlot Instance = new();

        public void Dispose()
        {
        }
    }
}
