using Microsoft.Data.Sqlite;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Invocation;

namespace Ovasabi.DevSidecar.Jobs;

/// <summary>
/// Fires this app's due jobs, as Dapr's scheduler streams them to a connected daprd: only while the app is up (and
/// healthy when health checks are on), each tick to one sidecar of the app ID (a lease in the shared store), never
/// early, at least once, ticks of one job one after another and different jobs side by side. A failed delivery follows
/// the job's failure policy; a tick given up on still counts towards <c>repeats</c>.
/// </summary>
public sealed class JobTriggers(SidecarOptions options, JobStore store, AppConnection app, TimeProvider time, ILogger<JobTriggers> logger)
{
    // Jobs this sidecar schedules wake it at once; those another process wrote, or whose lease ran out, are seen within this time.
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Renewal = TimeSpan.FromSeconds(10);
    private const int ClaimBatch = 64;

    private readonly string _owner = JobStore.OwnerOf(options.Namespace, options.AppId);
    private readonly string _leaseOwner = Guid.NewGuid().ToString("N");
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Looks for due jobs now (a job was scheduled, or a delivery ended).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already awake
        }
    }

    /// <summary>Runs until <paramref name="stopping"/>; the app must be ready before this starts.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        if (app.Channel is null)
        {
            return;
        }
        var deliveries = new List<Task>();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var wait = Poll;
                deliveries.RemoveAll(d => d.IsCompleted);
                if (app.IsHealthy)
                {
                    try
                    {
                        // Reading first keeps idle sidecars off the file's write lock.
                        var now = time.GetUtcNow();
                        var next = await store.NextDueAsync(_owner, now, stopping);
                        if (next <= now)
                        {
                            foreach (var job in await store.ClaimDueAsync(_owner, _leaseOwner, now, now + Lease, ClaimBatch, stopping))
                            {
                                deliveries.Add(DeliverAsync(job, stopping));
                            }
                            next = await store.NextDueAsync(_owner, now, stopping);
                        }
                        if (next is { } due)
                        {
                            wait = TimeSpan.FromTicks(Math.Clamp((due - time.GetUtcNow()).Ticks, 0, Poll.Ticks));
                        }
                    }
                    catch (SqliteException e)
                    {
                        logger.LogWarning("The job store {Path} failed: {Error}", store.FilePath, e.Message);
                    }
                }
                await _wake.WaitAsync(wait, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // shutting down
        }
        await Task.WhenAll(deliveries);
    }

    private async Task DeliverAsync(ClaimedJob job, CancellationToken stopping)
    {
        try
        {
            if (job.Tick > job.Expiry)
            {
                await store.FinishTickAsync(_owner, job, null, CancellationToken.None);
                return;
            }
            JobTriggerOutcome outcome;
            using (var renewing = CancellationTokenSource.CreateLinkedTokenSource(stopping))
            {
                var renewals = RenewAsync(job, renewing.Token);
                try
                {
                    using var slot = await app.EnterAsync(stopping);
                    outcome = await app.Channel!.TriggerJobAsync(job.Name, job.Job.Data, stopping);
                }
                finally
                {
                    await renewing.CancelAsync();
                    await renewals;
                }
            }
            if (outcome.Delivered)
            {
                if (outcome.Problem is not null)
                {
                    logger.LogError("Job {Job}: the app answered {Problem}; counted as delivered", job.Name, outcome.Problem);
                }
                await store.FinishTickAsync(_owner, job, JobPlan.NextTick(job.Job, job.Tick, job.Expiry, job.TicksDone + 1), CancellationToken.None);
            }
            else if (RetryDelay(job) is { } delay)
            {
                logger.LogWarning("Job {Job}: delivery failed ({Problem}); retrying in {Delay}", job.Name, outcome.Problem, GoDuration.Format(delay));
                await store.RetryAsync(_owner, job, time.GetUtcNow() + delay, CancellationToken.None);
            }
            else
            {
                logger.LogError("Job {Job}: delivery failed ({Problem}); the failure policy gives up on this trigger", job.Name, outcome.Problem);
                await store.FinishTickAsync(_owner, job, JobPlan.NextTick(job.Job, job.Tick, job.Expiry, job.TicksDone + 1), CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The sidecar stops mid-delivery: another sidecar of the app ID (or this one, restarted) fires it again.
            await ReleaseQuietlyAsync(job);
        }
        catch (Exception e)
        {
            logger.LogWarning("Job {Job}: {Error}; it fires again when its lease ends", job.Name, e.Message);
        }
        finally
        {
            Wake();
        }
    }

    /// <summary>When to deliver a failed tick again, or null to give up: <c>drop</c> never retries, <c>constant</c> without <c>max_retries</c> always does.</summary>
    private static TimeSpan? RetryDelay(ClaimedJob job)
    {
        var policy = job.Job.FailurePolicy;
        if (policy?.Constant is not { } constant)
        {
            return null;
        }
        var failures = job.Attempts + 1;
        return !constant.HasMaxRetries || failures <= constant.MaxRetries
            ? constant.Interval?.ToTimeSpan() ?? TimeSpan.Zero
            : null;
    }

    private async Task RenewAsync(ClaimedJob job, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Renewal, time, cancellationToken);
                await store.RenewAsync(_owner, job, _leaseOwner, time.GetUtcNow() + Lease, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // delivery ended
        }
        catch (SqliteException e)
        {
            logger.LogWarning("Job {Job}: the lease could not be renewed: {Error}", job.Name, e.Message);
        }
    }

    private async Task ReleaseQuietlyAsync(ClaimedJob job)
    {
        try
        {
            await store.ReleaseAsync(_owner, job, CancellationToken.None);
        }
        catch (SqliteException)
        {
            // the lease runs out by itself
        }
    }
}
