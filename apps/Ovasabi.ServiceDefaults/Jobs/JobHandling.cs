using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Telemetry;

namespace Ovasabi.ServiceDefaults.Jobs;

/// <summary>The job a trigger belongs to.</summary>
public sealed record JobContext(string Name);

/// <summary>
/// Handles the triggers of the jobs whose names start with one prefix. Triggers come at least once and may repeat
/// (a retry, a second replica after a lease ran out): a handler must be idempotent. Throw a ServiceException for a
/// trigger that can never be handled (it is not retried); any other failure asks for the job's failure policy.
/// </summary>
public interface IJobHandler<in TPayload> where TPayload : IMessage
{
    Task HandleAsync(TPayload payload, JobContext context, CancellationToken cancellationToken);
}

/// <summary>The jobs named <see cref="NamePrefix"/>… and the payload type and handler that serve them.</summary>
public sealed record JobRegistration(
    string NamePrefix,
    MessageDescriptor Descriptor,
    Func<IServiceProvider, IMessage, JobContext, CancellationToken, Task> Handle);

public static class JobHandlingExtensions
{
    /// <summary>Handles the triggers of jobs named <paramref name="namePrefix"/>… with <typeparamref name="THandler"/>.</summary>
    public static IServiceCollection AddJobHandler<TPayload, THandler>(this IServiceCollection services, string namePrefix)
        where TPayload : class, IMessage<TPayload>, new()
        where THandler : class, IJobHandler<TPayload>
    {
        if (namePrefix.Length == 0)
        {
            throw new ArgumentException("a job handler needs a name prefix", nameof(namePrefix));
        }
        services.AddScoped<THandler>();
        services.AddSingleton(new JobRegistration(namePrefix, new TPayload().Descriptor,
            (provider, payload, context, ct) => provider.GetRequiredService<THandler>().HandleAsync((TPayload)payload, context, ct)));
        return services;
    }
}

/// <summary>
/// Routes a Jobs API trigger (<c>AppCallback/OnJobEvent</c>) to the handler of the longest matching name prefix. The
/// answer steers daprd: OK when handled; NotFound (daprd counts it as delivered, no retry) for a trigger that can
/// never be handled: no handler, a payload of another type, a domain error; Unavailable otherwise, so the job's
/// failure policy retries it.
/// </summary>
public sealed class JobDispatcher(IEnumerable<JobRegistration> registrations, IServiceScopeFactory scopes, ServiceMetrics metrics, ILogger<JobDispatcher> logger)
{
    private readonly JobRegistration[] _byLongestPrefix = [.. registrations.OrderByDescending(r => r.NamePrefix.Length)];

    public async Task<JobEventResponse> DispatchAsync(JobEventRequest request, CancellationToken cancellationToken)
    {
        var registration = _byLongestPrefix.FirstOrDefault(r => request.Name.StartsWith(r.NamePrefix, StringComparison.Ordinal));
        if (registration is null)
        {
            logger.LogError("Job {Job} has no handler; the trigger is dropped", Bounded(request.Name));
            throw Outcome("no-handler", StatusCode.NotFound, "no handler for this job");
        }
        var prefix = registration.NamePrefix;
        if (request.Data is not { } data || !data.Is(registration.Descriptor))
        {
            logger.LogError("Job {Job} carries {Type}, not {Expected}; the trigger is dropped", Bounded(request.Name), Bounded(request.Data?.TypeUrl ?? "no payload"),
                registration.Descriptor.FullName);
            throw Outcome("drop", StatusCode.NotFound, "the job's payload is not what its handler reads", prefix);
        }
        IMessage payload;
        try
        {
            payload = registration.Descriptor.Parser.ParseFrom(data.Value);
        }
        catch (InvalidProtocolBufferException e)
        {
            logger.LogError("Job {Job}'s payload does not parse; the trigger is dropped: {Reason}", Bounded(request.Name), e.Message);
            throw Outcome("drop", StatusCode.NotFound, "the job's payload does not parse", prefix);
        }
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await registration.Handle(scope.ServiceProvider, payload, new JobContext(request.Name), cancellationToken);
        }
        catch (ServiceException e)
        {
            logger.LogError("Job {Job} cannot be handled ({Code}); the trigger is dropped: {Reason}", Bounded(request.Name), e.Code, e.Message);
            throw Outcome("drop", StatusCode.NotFound, "the job cannot be handled", prefix);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Job {Job} failed; its failure policy decides on a retry", Bounded(request.Name));
            throw Outcome("retry", StatusCode.Unavailable, "the job failed; try again", prefix);
        }
        metrics.JobTriggered(prefix, "success");
        return new JobEventResponse();
    }

    private RpcException Outcome(string outcome, StatusCode code, string message, string prefix = "")
    {
        metrics.JobTriggered(prefix, outcome);
        return new RpcException(new Status(code, message));
    }

    // Job names come from the app, but a log line still never carries an unbounded string.
    private static string Bounded(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
