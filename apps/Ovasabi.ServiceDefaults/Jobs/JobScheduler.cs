using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using DaprApi = Dapr.Client.Autogen.Grpc.v1.Dapr;

namespace Ovasabi.ServiceDefaults.Jobs;

/// <summary>
/// When a job fires, in the Jobs API's terms: <see cref="DueTime"/> (RFC 3339 or a duration such as <c>5s</c>) and/or
/// <see cref="Schedule"/> (six cron fields with seconds first, or <c>@every 30s</c>), bounded by <see cref="Repeats"/>
/// and <see cref="Ttl"/>; a failed trigger is retried every <see cref="RetryInterval"/> up to <see cref="MaxRetries"/>
/// times (null: for ever).
/// </summary>
public sealed record JobTiming(
    string? DueTime = null,
    string? Schedule = null,
    uint? Repeats = null,
    string? Ttl = null,
    TimeSpan? RetryInterval = null,
    uint? MaxRetries = 3)
{
    /// <summary>Once, at <paramref name="due"/> (a past instant fires at once).</summary>
    public static JobTiming At(DateTimeOffset due) => new(DueTime: due.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>
/// Schedules and deletes the app's Dapr jobs through its sidecar (the generated Jobs API client: the Dapr.Jobs package
/// is not on the feed). Jobs belong to the app ID: every replica sees the same ones, and one replica gets each trigger.
/// </summary>
public sealed class JobScheduler(DaprApi.DaprClient dapr)
{
    /// <summary>
    /// Schedules <paramref name="name"/> with <paramref name="payload"/>; false when the name is taken and
    /// <paramref name="overwrite"/> is off (the existing job stays as it was).
    /// </summary>
    public async Task<bool> ScheduleAsync(string name, IMessage payload, JobTiming timing, bool overwrite, CancellationToken cancellationToken)
    {
        var job = new Job
        {
            Name = name,
            Data = Any.Pack(payload),
            FailurePolicy = new JobFailurePolicy { Constant = new JobFailurePolicyConstant { Interval = Duration.FromTimeSpan(timing.RetryInterval ?? TimeSpan.FromSeconds(1)) } },
        };
        if (timing.MaxRetries is { } maxRetries)
        {
            job.FailurePolicy.Constant.MaxRetries = maxRetries;
        }
        if (timing.DueTime is { } due)
        {
            job.DueTime = due;
        }
        if (timing.Schedule is { } schedule)
        {
            job.Schedule = schedule;
        }
        if (timing.Repeats is { } repeats)
        {
            job.Repeats = repeats;
        }
        if (timing.Ttl is { } ttl)
        {
            job.Ttl = ttl;
        }
        try
        {
            await dapr.ScheduleJobAsync(new ScheduleJobRequest { Job = job, Overwrite = overwrite }, cancellationToken: cancellationToken);
            return true;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
            return false;
        }
    }

    /// <summary>Deletes the job; a job that is not there (finished, never scheduled) is fine.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken) =>
        await dapr.DeleteJobAsync(new DeleteJobRequest { Name = name }, cancellationToken: cancellationToken);
}
