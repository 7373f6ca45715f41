using Dapr.Client.Autogen.Grpc.v1;

namespace Ovasabi.DevSidecar.Tests.Jobs;

/// <summary>Jobs as an app writes them: only the fields given are present (presence matters to the scheduler).</summary>
internal static class TestJobs
{
    public static Job New(string name, string? schedule = null, string? dueTime = null, uint? repeats = null, string? ttl = null, JobFailurePolicy? policy = null)
    {
        var job = new Job { Name = name };
        if (schedule is not null)
        {
            job.Schedule = schedule;
        }
        if (dueTime is not null)
        {
            job.DueTime = dueTime;
        }
        if (repeats is { } r)
        {
            job.Repeats = r;
        }
        if (ttl is not null)
        {
            job.Ttl = ttl;
        }
        if (policy is not null)
        {
            job.FailurePolicy = policy;
        }
        return job;
    }
}
