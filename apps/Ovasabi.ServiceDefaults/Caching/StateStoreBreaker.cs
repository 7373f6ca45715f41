using Ovasabi.ServiceDefaults.Hosting;
using System.Collections.Concurrent;
using Dapr.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ovasabi.ServiceDefaults.Grpc;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Ovasabi.ServiceDefaults.Caching;

/// <summary>How calls to a Dapr state store fail fast while it is down (configuration section <c>Service:StateStoreBreaker</c>).</summary>
public sealed class StateStoreBreakerOptions
{
    public const string Section = "Service:StateStoreBreaker";

    /// <summary>A call that takes longer counts as failed (and its caller carries on without the store).</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The share of failed calls in <see cref="SamplingDuration"/> that opens the breaker.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Calls in <see cref="SamplingDuration"/> before the ratio counts.</summary>
    public int MinimumThroughput { get; set; } = 3;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>While open, how often a probe (not a request) checks whether the store answers again.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    public static IEnumerable<string> Problems(StateStoreBreakerOptions o) =>
        Settings.Check(o.CallTimeout > TimeSpan.Zero, $"{Section}:CallTimeout", "must be positive")
            .Concat(Settings.Check(o.FailureRatio is > 0 and <= 1, $"{Section}:FailureRatio", "must be in (0, 1]"))
            .Concat(Settings.Check(o.MinimumThroughput >= 2, $"{Section}:MinimumThroughput", "must be at least 2"))
            .Concat(Settings.Check(o.SamplingDuration > TimeSpan.Zero, $"{Section}:SamplingDuration", "must be positive"))
            .Concat(Settings.Check(o.ProbeInterval > TimeSpan.Zero, $"{Section}:ProbeInterval", "must be positive"));
}

/// <summary>
/// A circuit breaker per state store around the app's calls to it through the sidecar (cache, sessions, lockout). While
/// the store's backend is down, daprd (and the dev sidecar) answer each call only after its client's timeouts, seconds
/// late; once enough calls failed, the breaker refuses them at once (<see cref="BrokenCircuitException"/>, which
/// <see cref="ExceptionMappingInterceptor.IsUnavailable"/> counts as an outage, as it does a timeout), so requests go on
/// without the store. No request is ever the one that finds out whether the store is back: while the breaker is open a
/// background probe reads the store every <see cref="StateStoreBreakerOptions.ProbeInterval"/> and closes the breaker
/// when it answers. Only outages count as failures: a refused or conflicting request does not.
/// </summary>
public sealed class StateStoreBreaker(DaprClient dapr, IOptions<StateStoreBreakerOptions> options, ILogger<StateStoreBreaker> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Runs one call to <paramref name="store"/> through its breaker and timeout.</summary>
    /// <exception cref="BrokenCircuitException">The store is considered down.</exception>
    /// <exception cref="TimeoutRejectedException">The call took longer than the timeout.</exception>
    public ValueTask<T> ExecuteAsync<T>(string store, Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken) =>
        _breakers.GetOrAdd(store, Build).Pipeline.ExecuteAsync(call, cancellationToken);

    /// <inheritdoc cref="ExecuteAsync{T}"/>
    public ValueTask ExecuteAsync(string store, Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken) =>
        _breakers.GetOrAdd(store, Build).Pipeline.ExecuteAsync(call, cancellationToken);

    /// <summary>Whether calls to <paramref name="store"/> are being refused at once (for metrics and tests).</summary>
    public bool IsOpen(string store) => _breakers.TryGetValue(store, out var breaker) && breaker.State.CircuitState is CircuitState.Open or CircuitState.Isolated;

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private sealed record Breaker(ResiliencePipeline Pipeline, CircuitBreakerStateProvider State);

    private Breaker Build(string store)
    {
        var settings = options.Value;
        var control = new CircuitBreakerManualControl();
        var state = new CircuitBreakerStateProvider();
        var pipeline = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = settings.FailureRatio,
                MinimumThroughput = settings.MinimumThroughput,
                SamplingDuration = settings.SamplingDuration,
                // Only the probe closes it (a break this long never ends by itself), so no request waits on a dead store.
                BreakDuration = TimeSpan.FromDays(1),
                ManualControl = control,
                StateProvider = state,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ExceptionMappingInterceptor.IsUnavailable),
                OnOpened = args =>
                {
                    logger.LogWarning("State store {Store} unavailable: calls to it fail at once until it answers again ({Reason})", store, args.Outcome.Exception?.Message);
                    _ = Task.Run(() => ProbeUntilBackAsync(store, control, settings, _stopping.Token));
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    logger.LogInformation("State store {Store} answers again", store);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(settings.CallTimeout)
            .Build();
        return new Breaker(pipeline, state);
    }

    private async Task ProbeUntilBackAsync(string store, CircuitBreakerManualControl control, StateStoreBreakerOptions settings, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.ProbeInterval, stopping);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                timeout.CancelAfter(settings.CallTimeout);
                await dapr.GetStateAsync<string?>(store, "ovasabi:breaker:probe", cancellationToken: timeout.Token);
                await control.CloseAsync(stopping);
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                logger.LogDebug("State store {Store} still unavailable: {Reason}", store, e.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
