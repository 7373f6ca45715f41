using System.Collections.Concurrent;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Jobs;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;

namespace Ovasabi.ServiceDefaults.Tests.Probe;

/// <summary>How often each event id reached a handler, whatever came of it (singleton: outlives the inbox transaction).</summary>
public sealed class DeliveryCounter
{
    private readonly ConcurrentDictionary<string, int> _deliveries = new(StringComparer.Ordinal);

    public int Increment(string eventId) => _deliveries.AddOrUpdate(eventId, 1, (_, n) => n + 1);

    public int Of(string eventId) => _deliveries.GetValueOrDefault(eventId);
}

/// <summary>
/// Records each signal in <c>probe_handled_event</c> and saves it (inside the inbox transaction), then fails when the
/// signal asks it to: a domain error, or a transient error for the first <c>fail_times</c> deliveries.
/// </summary>
public sealed class SignalHandler(ProbeDbContext db, DeliveryCounter deliveries) : IEventHandler<Signal>
{
    public async Task HandleAsync(Signal message, EventContext context, CancellationToken cancellationToken)
    {
        var delivery = deliveries.Increment(context.Id);
        db.HandledEvents.Add(new HandledEvent { EventId = context.Id, Topic = context.Topic, Key = message.Key, HandledAt = DateTimeOffset.UtcNow });
        // Saved before failing, so a failure shows whether the inbox transaction really rolls the handler's writes back.
        await db.SaveChangesAsync(cancellationToken);
        switch (message.Behavior)
        {
            case "domain":
                throw new FailedPreconditionException($"signal {message.Key} can never be handled", "SIGNAL_REFUSED");
            case "transient" when delivery <= message.FailTimes:
                throw new TimeoutException($"signal {message.Key}: a dependency timed out (delivery {delivery})");
            case "hold":
                // The other deliveries of this id got past the inbox's "already handled?" check and now wait on its
                // unique key, which this uncommitted delivery holds.
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (deliveries.Of(context.Id) < message.HoldFor && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(20, cancellationToken);
                }
                break;
        }
    }
}

/// <summary>Records each note; never fails.</summary>
public sealed class NoteHandler(ProbeDbContext db, DeliveryCounter deliveries) : IEventHandler<Note>
{
    public Task HandleAsync(Note message, EventContext context, CancellationToken cancellationToken)
    {
        deliveries.Increment(context.Id);
        db.HandledEvents.Add(new HandledEvent { EventId = context.Id, Topic = context.Topic, Key = message.Key, HandledAt = DateTimeOffset.UtcNow });
        return Task.CompletedTask;
    }
}

/// <summary>
/// Handles the probe's signal jobs (named <see cref="NamePrefix"/>…): records each trigger under the job's name, then
/// fails as the signal asks (a domain error, or a transient error for the first <c>fail_times</c> triggers).
/// </summary>
public sealed class SignalJobHandler(ProbeDbContext db, DeliveryCounter deliveries) : IJobHandler<Signal>
{
    public const string NamePrefix = "probe-signal-";

    public async Task HandleAsync(Signal payload, JobContext context, CancellationToken cancellationToken)
    {
        var delivery = deliveries.Increment(context.Name);
        switch (payload.Behavior)
        {
            case "domain":
                throw new FailedPreconditionException($"job {context.Name} can never be handled", "JOB_REFUSED");
            case "transient" when delivery <= payload.FailTimes:
                throw new TimeoutException($"job {context.Name}: a dependency timed out (trigger {delivery})");
        }
        db.HandledEvents.Add(new HandledEvent { EventId = context.Name, Topic = "job", Key = payload.Key, HandledAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync(cancellationToken);
    }
}
