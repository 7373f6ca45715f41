using Grpc.Core;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Resources;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Ovasabi.DevSidecar.Resiliency;

/// <summary>
/// Thrown inside a policy to report a failed outcome that carries a status (an app's HTTP status, a gRPC code):
/// retries and circuit breakers count it, and retry <c>matching</c> filters on it.
/// </summary>
public sealed class FailedOutcomeException(string message, int? httpStatus = null, StatusCode? grpcStatus = null, object? outcome = null)
    : Exception(message)
{
    public int? HttpStatus { get; } = httpStatus;

    public StatusCode? GrpcStatus { get; } = grpcStatus;

    /// <summary>The last failed result, returned to the caller when retries run out.</summary>
    public object? Outcome { get; } = outcome;
}

/// <summary>A Resiliency policy bound to one target: retry (outermost), circuit breaker, timeout per attempt (innermost).</summary>
public sealed class ResiliencePolicy
{
    public static readonly ResiliencePolicy None = new(ResiliencePipeline.Empty, hasRetry: false);

    private readonly ResiliencePipeline _pipeline;

    internal ResiliencePolicy(ResiliencePipeline pipeline, bool hasRetry)
    {
        _pipeline = pipeline;
        HasRetry = hasRetry;
    }

    public bool HasRetry { get; }

    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> operation, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(operation, cancellationToken);

    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> operation, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(operation, cancellationToken);
}

/// <summary>The Resiliency resources that apply to this sidecar, resolved to policies per app and per component.</summary>
public sealed class ResiliencyPolicies
{
    private readonly Dictionary<string, string> _timeouts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (RetryModel Model, string File)> _retries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (CircuitBreakerModel Model, string File)> _breakers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PolicyRefsModel> _apps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PolicyRefsModel> _outbound = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PolicyRefsModel> _inbound = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ResiliencePolicy> _cache = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    public ResiliencyPolicies(IEnumerable<Loaded<ResiliencyResource>> resources, TimeProvider time)
    {
        _time = time;
        var references = new List<(PolicyRefsModel Refs, string File, string Field)>();
        foreach (var resource in resources)
        {
            var spec = resource.Resource.Spec;
            foreach (var (name, value) in spec?.Policies?.Timeouts ?? [])
            {
                RequireDuration(resource.File, $"spec.policies.timeouts.{name}", value);
                _timeouts[name] = value;
            }
            foreach (var (name, retry) in spec?.Policies?.Retries ?? [])
            {
                Validate(resource.File, name, retry);
                _retries[name] = (retry, resource.File);
            }
            foreach (var (name, breaker) in spec?.Policies?.CircuitBreakers ?? [])
            {
                Validate(resource.File, name, breaker);
                _breakers[name] = (breaker, resource.File);
            }
            foreach (var (app, refs) in spec?.Targets?.Apps ?? [])
            {
                _apps[app] = refs;
                references.Add((refs, resource.File, $"spec.targets.apps.{app}"));
            }
            foreach (var (component, target) in spec?.Targets?.Components ?? [])
            {
                if (target.Outbound is not null)
                {
                    _outbound[component] = target.Outbound;
                    references.Add((target.Outbound, resource.File, $"spec.targets.components.{component}.outbound"));
                }
                if (target.Inbound is not null)
                {
                    _inbound[component] = target.Inbound;
                    references.Add((target.Inbound, resource.File, $"spec.targets.components.{component}.inbound"));
                }
            }
        }
        // Checked once every file is read: a target may use a policy defined in another Resiliency file.
        foreach (var (refs, file, field) in references)
        {
            CheckReferences(refs, file, field);
        }
    }

    /// <summary>The policy for calls to app <paramref name="appId"/>, or null when no Resiliency targets it.</summary>
    public ResiliencePolicy? ForApp(string appId) =>
        Build($"app:{appId}", _apps.GetValueOrDefault(appId), ["DefaultApp", "Default"]);

    /// <summary>The policy for calls from the sidecar into a component (state, publish, bindings).</summary>
    public ResiliencePolicy? ForComponentOutbound(string component, string kind) =>
        Build($"out:{component}", _outbound.GetValueOrDefault(component), [$"Default{kind}ComponentOutbound", "DefaultComponentOutbound", "DefaultComponent", "Default"]);

    /// <summary>The policy for deliveries from a component to the app (pub/sub messages).</summary>
    public ResiliencePolicy? ForComponentInbound(string component, string kind) =>
        Build($"in:{component}", _inbound.GetValueOrDefault(component), [$"Default{kind}ComponentInbound", "DefaultComponentInbound", "DefaultComponent", "Default"]);

    private ResiliencePolicy? Build(string key, PolicyRefsModel? refs, string[] defaultPrefixes)
    {
        lock (_lock)
        {
            if (_cache.TryGetValue(key, out var cached))
            {
                return cached;
            }
            var retryName = refs?.Retry ?? Default(_retries.Keys, defaultPrefixes, "RetryPolicy");
            var breakerName = refs?.CircuitBreaker ?? Default(_breakers.Keys, defaultPrefixes, "CircuitBreakerPolicy");
            var timeoutName = refs?.Timeout ?? Default(_timeouts.Keys, defaultPrefixes, "TimeoutPolicy");
            if (retryName is null && breakerName is null && timeoutName is null)
            {
                return null;
            }
            var builder = new ResiliencePipelineBuilder();
            var hasRetry = retryName is not null && AddRetry(builder, _retries[retryName].Model);
            if (breakerName is not null)
            {
                var model = _breakers[breakerName].Model;
                var breaker = new CircuitBreaker($"{breakerName}({key})", model.MaxRequests ?? 1,
                    Duration(model.Interval, TimeSpan.Zero), Duration(model.Timeout, TimeSpan.FromSeconds(60)),
                    TripExpression.Parse(model.Trip ?? "consecutiveFailures >= 5"), _time);
                builder.AddStrategy(_ => new BreakerStrategy(breaker), new BreakerStrategyOptions());
            }
            if (timeoutName is not null)
            {
                // A target may name a timeout policy or give a duration inline.
                builder.AddTimeout(GoDuration.Parse(_timeouts.GetValueOrDefault(timeoutName, timeoutName)));
            }
            var policy = new ResiliencePolicy(builder.Build(), hasRetry);
            _cache[key] = policy;
            return policy;
        }
    }

    private static string? Default(IEnumerable<string> names, string[] prefixes, string suffix)
    {
        var set = names.ToHashSet(StringComparer.Ordinal);
        return prefixes.Select(p => p + suffix).FirstOrDefault(set.Contains);
    }

    private static bool AddRetry(ResiliencePipelineBuilder builder, RetryModel model)
    {
        var maxRetries = model.MaxRetries ?? -1;
        if (maxRetries == 0)
        {
            return false;
        }
        var exponential = string.Equals(model.Policy, "exponential", StringComparison.OrdinalIgnoreCase);
        var httpCodes = StatusSet(model.Matching?.HttpStatusCodes);
        var grpcCodes = StatusSet(model.Matching?.GRPCStatusCodes);
        builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = maxRetries < 0 ? int.MaxValue : maxRetries,
            // Dapr's exponential backoff starts at 500 ms and ignores `duration`; constant waits `duration` (5 s by default).
            BackoffType = exponential ? DelayBackoffType.Exponential : DelayBackoffType.Constant,
            Delay = exponential ? TimeSpan.FromMilliseconds(500) : Duration(model.Duration, TimeSpan.FromSeconds(5)),
            MaxDelay = Duration(model.MaxInterval, TimeSpan.FromSeconds(60)),
            UseJitter = exponential,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception switch
            {
                null or BrokenCircuitException => false,
                OperationCanceledException when args.Context.CancellationToken.IsCancellationRequested => false,
                FailedOutcomeException { HttpStatus: { } status } when httpCodes is not null => httpCodes.Contains(status),
                FailedOutcomeException { GrpcStatus: { } code } when grpcCodes is not null => grpcCodes.Contains((int)code),
                _ => true,
            }),
        });
        return true;
    }

    /// <summary>Parses Dapr's status lists ("500-599,429"); null when no list is given (then every failure retries).</summary>
    private static HashSet<int>? StatusSet(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
        {
            return null;
        }
        var set = new HashSet<int>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split('-', 2);
            var from = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
            var to = range.Length == 2 ? int.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture) : from;
            for (var code = from; code <= to; code++)
            {
                set.Add(code);
            }
        }
        return set;
    }

    private static TimeSpan Duration(string? value, TimeSpan defaultValue) =>
        string.IsNullOrWhiteSpace(value) ? defaultValue : GoDuration.Parse(value);

    private static void RequireDuration(string file, string field, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value) && !GoDuration.TryParse(value, out _))
        {
            throw new ResourceException(file, field, $"'{value}' is not a duration (e.g. 500ms, 5s)");
        }
    }

    private static void Validate(string file, string name, RetryModel retry)
    {
        var field = $"spec.policies.retries.{name}";
        if (retry.Policy is not (null or "constant" or "exponential"))
        {
            throw new ResourceException(file, field + ".policy", $"unknown retry policy '{retry.Policy}' (constant or exponential)");
        }
        RequireDuration(file, field + ".duration", retry.Duration);
        RequireDuration(file, field + ".maxInterval", retry.MaxInterval);
        try
        {
            StatusSet(retry.Matching?.HttpStatusCodes);
            StatusSet(retry.Matching?.GRPCStatusCodes);
        }
        catch (FormatException)
        {
            throw new ResourceException(file, field + ".matching", "status codes must look like 500-599,429");
        }
    }

    private static void Validate(string file, string name, CircuitBreakerModel breaker)
    {
        var field = $"spec.policies.circuitBreakers.{name}";
        RequireDuration(file, field + ".interval", breaker.Interval);
        RequireDuration(file, field + ".timeout", breaker.Timeout);
        try
        {
            TripExpression.Parse(breaker.Trip ?? "consecutiveFailures >= 5");
        }
        catch (FormatException e)
        {
            throw new ResourceException(file, field + ".trip", e.Message);
        }
    }

    private void CheckReferences(PolicyRefsModel refs, string file, string field)
    {
        Check(refs.Retry, _retries.ContainsKey, "retry", "retries");
        Check(refs.CircuitBreaker, _breakers.ContainsKey, "circuitBreaker", "circuitBreakers");
        Check(refs.Timeout, _timeouts.ContainsKey, "timeout", "timeouts");

        void Check(string? name, Func<string, bool> exists, string kind, string section)
        {
            if (name is not null && !exists(name) && !GoDuration.TryParse(name, out _))
            {
                throw new ResourceException(file, $"{field}.{kind}", $"policy '{name}' is not defined under spec.policies.{section}");
            }
        }
    }

    private sealed class BreakerStrategyOptions : ResilienceStrategyOptions;

    private sealed class BreakerStrategy(CircuitBreaker breaker) : ResilienceStrategy
    {
        protected override async ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
        {
            try
            {
                breaker.Enter();
            }
            catch (BrokenCircuitException e)
            {
                return Outcome.FromException<TResult>(e);
            }
            var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
            breaker.Exit(outcome.Exception is null);
            return outcome;
        }
    }
}
