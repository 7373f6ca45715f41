using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Jobs;

namespace Ovasabi.Notification.Delivery;

/// <summary>Wakes this replica's <see cref="Dispatcher"/>: something is due now.</summary>
public sealed class DeliverySignal : Wakeup;

/// <summary>
/// Asks Dapr's Jobs API to wake a replica when a message falls due later (a send time, a retry). One job per
/// <see cref="NotificationOptions.WakeGranularity"/> bucket, never one per message, named by the bucket's end (never
/// early): a time already asked for is fine (AlreadyExists). The job only wakes; the database says what is due, so a
/// repeated or lost trigger costs nothing (the sweep catches what a lost one missed). Jobs outlive the app and its
/// sidecar; the scheduler gives each trigger to one replica.
/// </summary>
public sealed class WakeScheduler(JobScheduler jobs, IOptions<NotificationOptions> options, ILogger<WakeScheduler> logger)
{
    public const string JobPrefix = "wake-";

    /// <summary>Schedules the wake for <paramref name="due"/>, in the background (called after a commit).</summary>
    public void Request(DateTimeOffset due) => _ = ScheduleAsync(due);

    private async Task ScheduleAsync(DateTimeOffset due)
    {
        var bucket = Bucket(due, options.Value.WakeGranularity);
        try
        {
            await jobs.ScheduleAsync(JobPrefix + bucket.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                Timestamp.FromDateTimeOffset(bucket), JobTiming.At(bucket) with { RetryInterval = TimeSpan.FromSeconds(5), MaxRetries = 12 },
                overwrite: false, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning("No wake-up for {Due:O} could be scheduled ({Error}); the sweep will find what is due", due, e.Message);
        }
    }

    /// <summary>The end of the bucket <paramref name="due"/> falls in: the first multiple of <paramref name="granularity"/> at or after it.</summary>
    public static DateTimeOffset Bucket(DateTimeOffset due, TimeSpan granularity)
    {
        var ticks = (due.UtcTicks + granularity.Ticks - 1) / granularity.Ticks * granularity.Ticks;
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}

/// <summary>A wake-up job fired: look for due messages now.</summary>
public sealed class WakeHandler(DeliverySignal signal) : IJobHandler<Timestamp>
{
    public Task HandleAsync(Timestamp payload, JobContext context, CancellationToken cancellationToken)
    {
        signal.Notify();
        return Task.CompletedTask;
    }
}
