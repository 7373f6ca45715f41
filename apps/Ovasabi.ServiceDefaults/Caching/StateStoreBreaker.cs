using System.Collections.Concurrent;
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

    /// <summary>How long calls are refused at once before one is let through to see whether the store is back.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// A circuit breaker per state store around the app's calls to it through the sidecar (cache, sessions, lockout). While
/// the store's backend is down, daprd (and the dev sidecar) answer each call only after its client's timeouts, seconds
/// late; once enough calls failed, the breaker refuses them at once (<see cref="BrokenCircuitException"/>, which
/// <see cref="ExceptionMappingInterceptor.IsUnavailable"/> counts as an outage, as it does a timeout), lets one through every <see cref="StateStoreBreakerOptions.BreakDuration"/>
/// to see whether it is back, and closes by itself when it is. Only outages count: a refused or conflicting request does not.
/// </summary>
public sealed class StateStoreBreaker(IOptions<StateStoreBreakerOptions> options, ILogger<StateStoreBreaker> logger)
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _pipelines = new(StringComparer.Ordinal);

    /// <summary>Runs one call to <paramref name="store"/> through its breaker and timeout.</summary>
    /// <exception cref="BrokenCircuitException">The store is considered down.</exception>
    /// <exception cref="TimeoutRejectedException">The call took longer than the timeout.</exception>
    public ValueTask<T> ExecuteAsync<T>(string store, Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken) =>
        _pipelines.GetOrAdd(store, Build).ExecuteAsync(call, cancellationToken);

    /// <inheritdoc cref="ExecuteAsync{T}"/>
    public ValueTask ExecuteAsync(string store, Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken) =>
        _pipelines.GetOrAdd(store, Build).ExecuteAsync(call, cancellationToken);

    private ResiliencePipeline Build(string store)
    {
        var settings = options.Value;
        return new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = settings.FailureRatio,
                MinimumThroughput = settings.MinimumThroughput,
                SamplingDuration = settings.SamplingDuration,
                BreakDuration = settings.BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ExceptionMappingInterceptor.IsUnavailable),
                OnOpened = args =>
                {
                    logger.LogWarning("State store {Store} unavailable: calls to it fail at once for {Break} ({Reason})", store, args.BreakDuration, args.Outcome.Exception?.Message);
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
    }
}
