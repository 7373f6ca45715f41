using System.Text;
using Dapr;
using Dapr.Client;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Telemetry;

namespace Ovasabi.ServiceDefaults.Events;

/// <summary>
/// Publishes the outbox: unpublished <c>service_event</c> rows, claimed oldest first and published up to
/// <see cref="MaxInFlight"/> at once, through Dapr pub/sub with the row's id as the CloudEvent id, then stamps
/// <c>published_at</c>. Rows are claimed with FOR UPDATE SKIP LOCKED so replicas never
/// publish the same row together. When the sidecar or the broker is down nothing is lost: the rows stay unpublished
/// and the dispatcher backs off (up to 10 s) and tries again; a row the broker refuses for good is set aside with its
/// own backoff so it does not hold the others up.
/// </summary>
public sealed class OutboxDispatcher<TDb>(
    IServiceScopeFactory scopes,
    DaprClient dapr,
    ServiceOptions options,
    OutboxSignal signal,
    ServiceMetrics metrics,
    TimeProvider time,
    ILogger<OutboxDispatcher<TDb>> logger) : BackgroundService where TDb : ServiceDbContext
{
    private const int BatchSize = 100;
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    // After a wake-up the commits of the next moments join the batch: under load one claim and one update then serve
    // many events, instead of a dispatch per event competing with the requests that are still being answered.
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(20);

    // Publishes in flight at once: enough to keep up with a busy service, few enough not to crowd its sidecar.
    private const int MaxInFlight = 16;

    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);

    private TimeSpan _backoff = TimeSpan.Zero;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var (published, failed) = (0, false);
            try
            {
                (published, failed) = await DispatchBatchAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The database is out of reach; the rows are safe where they are.
                logger.LogWarning("Outbox dispatch failed: {Reason}", e.Message);
                failed = true;
            }
            _backoff = failed ? Next(_backoff) : TimeSpan.Zero;
            try
            {
                if (failed)
                {
                    await Task.Delay(_backoff, stoppingToken);
                }
                else if (published < BatchSize && await signal.WaitAsync(PollInterval, stoppingToken))
                {
                    await Task.Delay(BatchWindow, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static TimeSpan Next(TimeSpan backoff) =>
        backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));

    private async Task<(int Published, bool Failed)> DispatchBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TDb>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var rows = await db.ServiceEvents
            .FromSql($"""
                SELECT * FROM service_event
                WHERE published_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                ORDER BY occurred_at, id
                LIMIT {BatchSize}
                FOR UPDATE SKIP LOCKED
                """)
            .ToListAsync(cancellationToken);
        // Published side by side: one at a time, a loaded service wrote events faster than they went out (at 500
        // transfers a second the outbox fell seconds behind). Order was never promised: pub/sub delivers concurrently
        // and redelivers, so consumers go by the event's content, not its arrival.
        var outcomes = await Task.WhenAll(rows.Select(async row =>
        {
            await _inFlight.WaitAsync(cancellationToken);
            try
            {
                await PublishAsync(row, cancellationToken);
                return (Row: row, Error: (Exception?)null);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                return (Row: row, Error: e);
            }
            finally
            {
                _inFlight.Release();
            }
        }));
        var published = 0;
        var transient = new List<(ServiceEvent Row, string Reason)>();
        foreach (var (row, error) in outcomes)
        {
            if (error is null)
            {
                row.PublishedAt = time.GetUtcNow();
                row.LastError = null;
                published++;
                metrics.Published(row.EventType, success: true);
                continue;
            }
            metrics.Published(row.EventType, success: false);
            row.Attempts++;
            var reason = Reason(error);
            row.LastError = reason.Length > 1000 ? reason[..1000] : reason;
            if (IsTransient(error))
            {
                transient.Add((row, reason));
                continue;
            }
            var delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(Math.Pow(2, Math.Min(row.Attempts, 12))).Ticks, TimeSpan.FromHours(1).Ticks));
            row.NextAttemptAt = time.GetUtcNow() + delay;
            logger.LogError("Publishing {EventType} {Id} was refused (attempt {Attempts}); retrying it in {Delay}: {Reason}", row.EventType, row.Id, row.Attempts, delay, reason);
        }
        if (transient.Count > 0)
        {
            // One line for the batch: with the sidecar down every event of it fails the same way.
            var (first, why) = transient[0];
            logger.LogWarning("Publishing {Count} events failed (first: {EventType} {Id}, attempt {Attempts}); backing off: {Reason}",
                transient.Count, first.EventType, first.Id, first.Attempts, why);
        }
        var failed = transient.Count > 0;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (published, failed);
    }

    private async Task PublishAsync(ServiceEvent row, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        await dapr.PublishByteEventAsync(options.PubSubName, row.EventType, Encoding.UTF8.GetBytes(row.Payload), "application/json",
            new Dictionary<string, string>
            {
                // Consumers de-duplicate on the CloudEvent id, so a re-published row is recognised.
                ["cloudevent.id"] = row.Id.ToString(),
                ["cloudevent.type"] = row.EventType,
            }, timeout.Token);
    }

    /// <summary>
    /// Why a publish failed: the SDK's DaprException only says "see InnerException", so last_error and the log take the
    /// sidecar's answer (status and detail) from inside it.
    /// </summary>
    private static string Reason(Exception e) => e is DaprException { InnerException: { } inner } ? inner.Message : e.Message;

    /// <summary>The sidecar or broker is down or slow (retry everything later), rather than refusing this one event.</summary>
    private static bool IsTransient(Exception e) => e switch
    {
        DaprException { InnerException: RpcException rpc } => rpc.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.DeadlineExceeded or StatusCode.Unknown or StatusCode.Cancelled,
        OperationCanceledException or HttpRequestException or RpcException => true,
        _ => ExceptionMappingInterceptor.IsUnavailable(e),
    };
}
