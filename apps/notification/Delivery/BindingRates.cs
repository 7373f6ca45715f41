using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Ovasabi.Notification.Data;
using Ovasabi.Notification.Domain;

namespace Ovasabi.Notification.Delivery;

/// <summary>A send the binding's rate has no room for until <see cref="Until"/>: the message waits, no attempt spent.</summary>
public sealed class RateDeferredException(string binding, DateTimeOffset until)
    : Exception($"binding {binding} is at its rate limit until {until:O}")
{
    public DateTimeOffset Until { get; } = until;
}

/// <summary>
/// The messages-per-second limit of each binding (<c>Notification:BindingRates</c>), shared by every replica: a GCRA
/// in one PostgreSQL row per binding. Its theoretical arrival time moves one interval per message, and a message may go
/// while that time is at most the burst ahead of now. One statement takes a permit or says there is none; a sender
/// waits a short while for one, and a longer wait puts the message back for later.
/// </summary>
public sealed class BindingRates(IServiceScopeFactory scopes, IOptions<NotificationOptions> options, TimeProvider time)
{
    /// <summary>The longest a sender waits for a permit; beyond it the message is rescheduled (so a lease never runs out waiting).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    /// <summary>Returns when <paramref name="binding"/> may send one message now.</summary>
    /// <exception cref="RateDeferredException">no permit within <see cref="MaxWait"/></exception>
    public async Task AcquireAsync(string binding, CancellationToken cancellationToken)
    {
        if (!options.Value.BindingRates.TryGetValue(binding, out var rate))
        {
            return;
        }
        var interval = TimeSpan.FromSeconds(1 / rate.PerSecond);
        var tolerance = interval * (rate.Burst - 1);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NotificationDbContext>();
        var waited = TimeSpan.Zero;
        while (true)
        {
            var now = time.GetUtcNow();
            var taken = await db.Database.SqlQuery<DateTimeOffset>($"""
                INSERT INTO service_notification_binding_rate AS r (binding, tat) VALUES ({binding}, {now + interval})
                ON CONFLICT (binding) DO UPDATE SET tat = GREATEST(r.tat, {now}) + {interval}
                WHERE GREATEST(r.tat, {now}) <= {now + tolerance}
                RETURNING tat AS "Value"
                """).ToListAsync(cancellationToken);
            if (taken.Count == 1)
            {
                return;
            }
            var tat = await db.Database.SqlQuery<DateTimeOffset>($"SELECT tat AS \"Value\" FROM service_notification_binding_rate WHERE binding = {binding}")
                .SingleAsync(cancellationToken);
            var wait = tat - tolerance - now;
            if (waited + wait > MaxWait)
            {
                throw new RateDeferredException(binding, now + wait);
            }
            wait = wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1);
            await Task.Delay(wait, time, cancellationToken);
            waited += wait;
        }
    }
}
