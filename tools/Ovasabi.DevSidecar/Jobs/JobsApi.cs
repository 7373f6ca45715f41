using Dapr.Client.Autogen.Grpc.v1;
using Grpc.Core;
using Ovasabi.DevSidecar.Api;
using Ovasabi.DevSidecar.Components.Bindings;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Jobs;

/// <summary>
/// The Jobs API (daprd 1.19, stable names and their <c>Alpha1</c> twins) over <see cref="JobStore"/>, with daprd's
/// checks, error codes and wording: daprd checks only for empty fields, and relays the scheduler's answer to the rest.
/// </summary>
public sealed class JobsApi(SidecarOptions options, JobStore store, JobTriggers triggers, TimeProvider time)
{
    /// <summary>Longest job name accepted. The scheduler's bound is not published; this one keeps etcd keys well under its limits.</summary>
    public const int MaxNameLength = 512;

    private static readonly JobFailurePolicy DefaultFailurePolicy = new()
    {
        Constant = new JobFailurePolicyConstant { Interval = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(1)), MaxRetries = 3 },
    };

    private string Namespace => options.Namespace ?? "default";

    private string Owner => JobStore.OwnerOf(options.Namespace, options.AppId);

    public async Task ScheduleAsync(ScheduleJobRequest request, CancellationToken cancellationToken)
    {
        if (request.Job is not { } job)
        {
            throw Empty("Job", "DAPR_SCHEDULER_EMPTY");
        }
        if (job.Name.Length == 0)
        {
            throw Empty("Name", "DAPR_SCHEDULER_JOB_NAME_EMPTY");
        }
        if (!job.HasSchedule && !job.HasDueTime)
        {
            throw Empty("Schedule", "DAPR_SCHEDULER_SCHEDULE_EMPTY");
        }
        if (NameProblem(job.Name) is { } problem)
        {
            throw SchedulerError("schedule job", StatusCode.Unknown, problem);
        }
        JobPlan plan;
        try
        {
            plan = JobPlan.For(job, time.GetUtcNow());
        }
        catch (FormatException e)
        {
            throw SchedulerError("schedule job", StatusCode.Unknown, "job failed validation: " + e.Message);
        }
        var stored = job.Clone();
        if (stored.FailurePolicy?.PolicyCase is null or JobFailurePolicy.PolicyOneofCase.None)
        {
            stored.FailurePolicy = DefaultFailurePolicy.Clone();
        }
        if (!await store.AddAsync(Owner, stored, plan, request.Overwrite, cancellationToken))
        {
            throw SchedulerError("schedule job", StatusCode.AlreadyExists, $"job already exists: '{Owner}||{job.Name}'");
        }
        triggers.Wake();
    }

    public async Task<Job> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (name.Length == 0)
        {
            throw Empty("Name", "DAPR_SCHEDULER_JOB_NAME_EMPTY");
        }
        if (NameProblem(name) is { } problem)
        {
            throw SchedulerError("get job", StatusCode.Unknown, problem);
        }
        return await store.GetAsync(Owner, name, cancellationToken)
            ?? throw SchedulerError("get job", StatusCode.NotFound, "job not found: " + name);
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        if (name.Length == 0)
        {
            throw Empty("Name", "DAPR_SCHEDULER_JOB_NAME_EMPTY");
        }
        if (NameProblem(name) is { } problem)
        {
            throw SchedulerError("delete job", StatusCode.Unknown, problem);
        }
        await store.DeleteAsync(Owner, name, cancellationToken);
    }

    /// <summary>Deletes this app's jobs whose names start with <paramref name="prefix"/>; all of them when it is empty.</summary>
    public async Task DeleteByPrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        if (prefix.Length > 0 && NameProblem(prefix + "a") is { } problem)
        {
            throw SchedulerError("delete job", StatusCode.Unknown, problem);
        }
        await store.DeleteByPrefixAsync(Owner, prefix, cancellationToken);
    }

    public Task<List<Job>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(Owner, cancellationToken);

    /// <summary>The scheduler's name rule since daprd 1.18.2: anything but path separators, '#', '?', control characters, "." and "..".</summary>
    public static string? NameProblem(string name)
    {
        if (name is "." or "..")
        {
            return $"name is a path traversal sequence: {GoCompat.Quote(name)}";
        }
        if (name.Length > MaxNameLength)
        {
            return $"name is too long: {name.Length} characters (at most {MaxNameLength})";
        }
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsControl(c))
            {
                return $"name contains control character at position {i}: {GoCompat.Quote(c.ToString())}";
            }
            if (c is '/' or '\\' or '#' or '?')
            {
                return $"name contains forbidden character: {GoCompat.Quote(c.ToString())}";
            }
        }
        return null;
    }

    private DaprError Empty(string what, string reason) =>
        new DaprError(StatusCode.InvalidArgument, 400, reason, $"{what} is empty", reason).WithInfo(Info());

    /// <summary>
    /// The scheduler's answer as daprd relays it: <c>failed to &lt;verb&gt; due to: rpc error: code = C desc = …</c>;
    /// scheduling keeps the scheduler's code (Unknown becomes Internal), every other call is Internal.
    /// </summary>
    private DaprError SchedulerError(string verb, StatusCode schedulerCode, string text)
    {
        var (code, reason) = verb switch
        {
            "schedule job" => (schedulerCode == StatusCode.Unknown ? StatusCode.Internal : schedulerCode, "DAPR_SCHEDULER_SCHEDULE_JOB"),
            "get job" => (StatusCode.Internal, "DAPR_SCHEDULER_GET_JOB"),
            _ => (StatusCode.Internal, "DAPR_SCHEDULER_DELETE_JOB"),
        };
        return new DaprError(code, code == StatusCode.AlreadyExists ? 409 : 500, reason,
            $"failed to {verb} due to: rpc error: code = {schedulerCode} desc = {text}", reason).WithInfo(Info());
    }

    private Dictionary<string, string> Info() => new() { ["appID"] = options.AppId, ["namespace"] = Namespace };
}
