using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Ovasabi.Notification.Domain;
using Polly;
using Polly.CircuitBreaker;

namespace Ovasabi.Notification.Delivery;

/// <summary>A provider's failure that may pass on a later try (a refused connection, a 4xx SMTP answer, a timeout).</summary>
public sealed class TransientProviderException(string message, Exception inner) : Exception(message, inner);

/// <summary>A refusal that will not pass by repeating it (a 5xx SMTP answer, an address that does not parse, an HTTP 4xx).</summary>
public sealed class PermanentProviderException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// One circuit breaker per output binding in this replica: after enough transient failures a binding is skipped for
/// <c>Notification:BreakDuration</c>, so a dead SMTP server costs each email one fast skip to the next provider instead
/// of a timeout. Permanent refusals (one recipient's 5xx) never count.
/// </summary>
public sealed class ProviderBreakers(IOptions<NotificationOptions> options, ILogger<ProviderBreakers> logger)
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _breakers = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="call"/> through the binding's breaker.</summary>
    /// <exception cref="BrokenCircuitException">the breaker is open: the binding was not called</exception>
    public ValueTask ExecuteAsync(string binding, Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken) =>
        _breakers.GetOrAdd(binding, Build).ExecuteAsync(call, cancellationToken);

    private ResiliencePipeline Build(string binding) => new ResiliencePipelineBuilder()
        .AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5,
            MinimumThroughput = 4,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = options.Value.BreakDuration,
            ShouldHandle = new PredicateBuilder().Handle<TransientProviderException>(),
            OnOpened = args =>
            {
                logger.LogWarning("Binding {Binding} skipped for {Break}: it keeps failing ({Reason})", binding, args.BreakDuration, args.Outcome.Exception?.Message);
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                logger.LogInformation("Binding {Binding} sends again", binding);
                return ValueTask.CompletedTask;
            },
        })
        .Build();
}
