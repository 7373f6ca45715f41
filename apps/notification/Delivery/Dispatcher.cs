using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Ovasabi.Notification.Data;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.Events;

namespace Ovasabi.Notification.Delivery;

/// <summary>A scheduled email, SMS or webhook this replica leased for one attempt.</summary>
public sealed record LeasedMessage(long Id, Guid Uuid, Guid UserId, string Channel, string Address, string Subject, string Text, string Html, bool Critical,
    string Category, string NotificationKey, int Attempt, Guid Lease, string? UnsubscribeUrl, string Data, DateTimeOffset CreatedAt);

/// <summary>
/// Delivers what is due: in-app items scheduled for later become visible; emails and SMS go through their Dapr output
/// bindings (<c>bindings.smtp</c>; <c>bindings.http</c> or <c>bindings.twilio.sms</c>): claims them with a lease
/// (<c>FOR UPDATE SKIP LOCKED</c>, so replicas share the work and a replica that died mid-send is taken over when its
/// lease runs out), hands each to the binding, and records the outcome: <c>sent</c>, or another try after a backoff
/// that doubles, or <c>failed</c> for a refusal that will never pass and after the last attempt. Sent and failed are
/// announced through the outbox. Every outcome write is fenced by the lease. It runs when a commit nudges it, when a
/// wake-up job fires (<see cref="WakeScheduler"/>), and every <c>SweepInterval</c>.
/// </summary>
public sealed class Dispatcher(IServiceScopeFactory scopes, DaprClient dapr, ProviderBreakers breakers, BindingRates rates, MimeMailer mailer, DeliverySignal signal, WakeScheduler wakes, IOptions<NotificationOptions> options,
    TimeProvider time, ILogger<Dispatcher> logger) : BackgroundService
{
    /// <summary>JSON for a provider, not for a web page: "+33…" stays as it is rather than "\u002B33…".</summary>
    private static readonly JsonSerializerOptions PlainJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private NotificationOptions Options => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                sent += await ShowDueItemsAsync(stoppingToken);
                sent += await FlushDigestsAsync(stoppingToken);
                var leased = await LeaseAsync(stoppingToken);
                await Parallel.ForEachAsync(leased, new ParallelOptions { MaxDegreeOfParallelism = Options.Concurrency, CancellationToken = stoppingToken },
                    async (email, ct) => await SendAsync(email, ct));
                sent += leased.Count;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database is away: nothing was lost (leased rows return when their lease runs out); look again later.
                logger.LogWarning("Delivery paused: {Error}", e.Message);
            }
            if (sent == 0)
            {
                await signal.WaitAsync(Options.SweepInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Makes in-app items whose time came visible (sent), announcing each as created and sent; returns how many.</summary>
    private async Task<int> ShowDueItemsAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NotificationDbContext>();
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var shown = await db.Messages.FromSql($"""
            UPDATE service_notification_message m
            SET status = {MessageStatuses.Sent}, sent_at = {now}, updated_at = {now}, version = version + 1
            FROM (SELECT id FROM service_notification_message
                  WHERE channel = {Channels.InApp} AND status = {MessageStatuses.Scheduled} AND due_at <= {now}
                  ORDER BY due_at LIMIT 100 FOR UPDATE SKIP LOCKED) due
            WHERE m.id = due.id
            RETURNING m.*
            """).AsNoTracking().ToListAsync(cancellationToken);
        foreach (var m in shown)
        {
            db.History.Add(new MessageHistoryRecord { MessageId = m.Id, Status = MessageStatuses.Sent, Actor = HistoryActors.Dispatcher, At = now });
            var user = m.RecipientUserId ?? Guid.Empty;
            var item = new InboxItemView(m.Uuid, m.NotificationKey, m.Category, m.Critical, m.Subject, m.BodyText, m.Data, m.CreatedAt, null);
            db.AddEvent(NotificationEvents.InAppCreatedTopic, NotificationEvents.InAppCreated(user, item));
            db.AddEvent(NotificationEvents.MessageSentTopic, NotificationEvents.Sent(user, Channels.InApp, m.Uuid, m.Category, m.NotificationKey, now));
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return shown.Count;
    }

    /// <summary>Flushes due digests; a flush that fails (a message canceled at that moment) is retried on the next round and holds back no other delivery.</summary>
    private async Task<int> FlushDigestsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<DigestFlusher>().FlushDueAsync(cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Digest flush failed, retried on the next round: {Error}", e.Message);
            return 0;
        }
    }

    /// <summary>Leases due emails (and ones whose sender's lease ran out), counting the attempt.</summary>
    private async Task<List<LeasedMessage>> LeaseAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NotificationDbContext>();
        var now = time.GetUtcNow();
        var lease = Guid.NewGuid();
        var until = now + Options.LeaseDuration;
        var batch = Options.Concurrency * 4;
        // A row still sending when its lease ran out was abandoned by a replica that stopped: the history says so.
        var rows = await db.Messages.FromSql($"""
            WITH leased AS (
                UPDATE service_notification_message m
                SET status = {MessageStatuses.Sending}, lease_token = {lease}, lease_until = {until}, attempt_count = attempt_count + 1,
                    updated_at = {now}, version = version + 1
                FROM (SELECT id, status AS was FROM service_notification_message
                      WHERE channel <> {Channels.InApp} AND ((status = {MessageStatuses.Scheduled} AND due_at <= {now} AND digest_id IS NULL)
                                                             OR (status = {MessageStatuses.Sending} AND lease_until < {now}))
                      ORDER BY due_at LIMIT {batch} FOR UPDATE SKIP LOCKED) due
                WHERE m.id = due.id
                RETURNING m.*, due.was),
            history AS (
                INSERT INTO service_notification_message_history (message_id, status, reason, actor, attempt, at)
                SELECT id, {MessageStatuses.Sending}, CASE WHEN was = {MessageStatuses.Sending} THEN 'lease_expired' END, {HistoryActors.Dispatcher}, attempt_count, {now}
                FROM leased)
            SELECT * FROM leased
            """).AsNoTracking().ToListAsync(cancellationToken);
        return rows.Select(m => new LeasedMessage(m.Id, m.Uuid, m.RecipientUserId ?? Guid.Empty, m.Channel, m.Address ?? "", m.Subject, m.BodyText, m.BodyHtml ?? "", m.Critical,
            m.Category, m.NotificationKey, m.AttemptCount, lease, m.UnsubscribeUrl, m.Data, m.CreatedAt)).ToList();
    }

    /// <summary>
    /// Tries the channel's bindings (and, for email, relays) in order: a transient failure or an open breaker moves on to
    /// the next, acceptance or a permanent refusal ends the attempt. Each one tried leaves its answer in the history. A
    /// webhook has one binding, its endpoint's, and no breaker: one receiver that fails must not hold back the others.
    /// </summary>
    private async Task SendAsync(LeasedMessage message, CancellationToken cancellationToken)
    {
        WebhookTarget? target = null;
        if (message.Channel == Channels.Webhook)
        {
            await using var scope = scopes.CreateAsyncScope();
            string? refusal = null;
            try
            {
                target = await scope.ServiceProvider.GetRequiredService<WebhookStore>().TargetAsync(Guid.Parse(message.Address), cancellationToken);
                refusal = target is null ? "endpoint_deleted" : Options.WebhookBindings.Contains(target.Binding) ? null : "binding_not_allowed";
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // Sealed under another key (Notification:WebhookSecretKey changed): no signature can be made.
                refusal = "endpoint_secret_unreadable";
            }
            if (refusal is not null)
            {
                await RecordAsync(message, target?.Binding, SendOutcome.Permanent, refusal, 0, [], cancellationToken);
                return;
            }
        }
        IReadOnlyList<string> chain = message.Channel switch
        {
            Channels.Email => Options.EmailChainFor(message.Category),
            Channels.Webhook => [target!.Binding],
            _ => [Options.SmsBinding],
        };
        var tried = new List<MessageHistoryRecord>();
        foreach (var binding in chain)
        {
            var started = Stopwatch.GetTimestamp();
            SendOutcome outcome;
            string? error = null;
            try
            {
                if (target is not null)
                {
                    await CallAsync(message, binding, target, cancellationToken);
                }
                else
                {
                    await breakers.ExecuteAsync(binding, async ct => await CallAsync(message, binding, null, ct), cancellationToken);
                }
                outcome = SendOutcome.Accepted;
            }
            catch (TransientProviderException e)
            {
                (outcome, error) = (SendOutcome.Transient, e.Message);
            }
            catch (PermanentProviderException e)
            {
                (outcome, error) = (SendOutcome.Permanent, e.Message);
            }
            catch (BrokenCircuitException)
            {
                (outcome, error) = (SendOutcome.Transient, $"skipped: binding {binding} keeps failing (circuit open)");
            }
            catch (RateDeferredException e)
            {
                await DeferAsync(message, binding, e.Until, tried, cancellationToken);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Anything else (a relay that lacks STARTTLS, the rate table unreachable) is this message's transient
                // failure, recorded and retried up to MaxAttempts; it must not stop the other sends in flight.
                (outcome, error) = (SendOutcome.Transient, $"{e.GetType().Name}: {e.Message}");
            }
            var last = outcome != SendOutcome.Transient || binding == chain[^1];
            if (last)
            {
                await RecordAsync(message, binding, outcome, error, (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds, tried, cancellationToken);
                return;
            }
            tried.Add(Attempt(message, binding, MessageStatuses.Sending, outcome, DeliveryRules.Reason(error!), (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds, time.GetUtcNow()));
        }
    }

    /// <summary>One try through one binding or relay, its failure sorted into transient or permanent.</summary>
    private async ValueTask CallAsync(LeasedMessage message, string binding, WebhookTarget? target, CancellationToken ct)
    {
        await rates.AcquireAsync(binding, ct);
        if (message.Channel == Channels.Email && Options.SmtpRelays.TryGetValue(binding, out var relay))
        {
            await mailer.SendAsync(relay, message, ct);
            return;
        }
        try
        {
            await dapr.InvokeBindingAsync(Request(message, binding, target), ct);
        }
        catch (Exception e) when (e is DaprException or RpcException && !ct.IsCancellationRequested)
        {
            var detail = (e.InnerException as RpcException)?.Status.Detail ?? (e as RpcException)?.Status.Detail ?? e.Message;
            var kind = message.Channel == Channels.Email ? DeliveryRules.ClassifySmtp(detail) : DeliveryRules.ClassifyHttp(detail);
            throw kind == SendOutcome.Transient ? new TransientProviderException(detail, e) : new PermanentProviderException(detail, e);
        }
    }

    /// <summary>The binding call that delivers <paramref name="message"/> on its channel.</summary>
    private BindingRequest Request(LeasedMessage message, string binding, WebhookTarget? target)
    {
        if (message.Channel == Channels.Email)
        {
            var email = new BindingRequest(binding, "create") { Data = Encoding.UTF8.GetBytes(message.Html) };
            // daprd's bindings.smtp keeps a request's overrides for later calls: every call sets all of them.
            email.Metadata["emailTo"] = message.Address;
            email.Metadata["subject"] = message.Subject;
            email.Metadata["priority"] = message.Critical ? "1" : "3";
            return email;
        }
        if (target is not null)
        {
            return Webhook(message, binding, target);
        }
        if (Options.SmsProvider == "twilio")
        {
            var twilio = new BindingRequest(binding, "create") { Data = Encoding.UTF8.GetBytes(message.Text) };
            twilio.Metadata["toNumber"] = message.Address;
            return twilio;
        }
        // bindings.http sends metadata keys that start upper-case as headers: the provider can drop a repeated send.
        var sms = new BindingRequest(binding, "post")
        {
            Data = JsonSerializer.SerializeToUtf8Bytes(new { to = message.Address, body = message.Text, id = message.Uuid }, PlainJson),
        };
        sms.Metadata["Idempotency-Key"] = message.Uuid.ToString();
        return sms;
    }

    /// <summary>
    /// A webhook POST: the same JSON on every attempt, signed anew with this attempt's timestamp (receivers refuse old
    /// ones); the id stays the message's, so a receiver drops a repeat.
    /// </summary>
    private BindingRequest Webhook(LeasedMessage message, string binding, WebhookTarget target)
    {
        using var data = JsonDocument.Parse(message.Data);
        var body = new WebhookBody(message.Uuid, message.NotificationKey, message.Category, message.Critical, message.CreatedAt, message.UserId,
            message.Subject, message.Text, data.RootElement).ToUtf8();
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var request = new BindingRequest(binding, "post") { Data = body };
        request.Metadata["path"] = target.Path;
        request.Metadata["Content-Type"] = "application/json";
        request.Metadata["Webhook-Id"] = message.Uuid.ToString();
        request.Metadata["Webhook-Timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        request.Metadata["Webhook-Signature"] = WebhookSignatures.Sign(message.Uuid.ToString(), timestamp, body, target.Keys);
        return request;
    }

    private async Task RecordAsync(LeasedMessage email, string? binding, SendOutcome outcome, string? error, int durationMs, List<MessageHistoryRecord> tried,
        CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NotificationDbContext>();
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var mine = db.Messages.Where(m => m.Id == email.Id && m.LeaseToken == email.Lease && m.Status == MessageStatuses.Sending);
        // The bindings that failed before this one in the same attempt.
        db.History.AddRange(tried);
        int changed;
        if (outcome == SendOutcome.Accepted)
        {
            changed = await mine.ExecuteUpdateAsync(m => m.SetProperty(x => x.Status, MessageStatuses.Sent).SetProperty(x => x.SentAt, now)
                .SetProperty(x => x.StatusReason, (string?)null).SetProperty(x => x.ProviderBinding, binding)
                .SetProperty(x => x.LeaseToken, (Guid?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null)
                .SetProperty(x => x.UpdatedAt, now).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
            if (changed > 0)
            {
                db.History.Add(Attempt(email, binding, MessageStatuses.Sent, outcome, null, durationMs, now));
                db.AddEvent(NotificationEvents.MessageSentTopic, NotificationEvents.Sent(email.UserId, email.Channel, email.Uuid, email.Category, email.NotificationKey, now));
            }
        }
        else
        {
            var reason = DeliveryRules.Reason(error ?? "");
            var final = outcome == SendOutcome.Permanent || email.Attempt >= Options.MaxAttempts;
            var due = now + DeliveryRules.Backoff(email.Attempt, Options.BaseBackoff, Options.MaxBackoff);
            changed = await mine.ExecuteUpdateAsync(m => m.SetProperty(x => x.Status, final ? MessageStatuses.Failed : MessageStatuses.Scheduled)
                .SetProperty(x => x.StatusReason, reason).SetProperty(x => x.DueAt, x => final ? x.DueAt : due)
                .SetProperty(x => x.LeaseToken, (Guid?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null)
                .SetProperty(x => x.UpdatedAt, now).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
            if (changed > 0)
            {
                db.History.Add(Attempt(email, binding, final ? MessageStatuses.Failed : MessageStatuses.Scheduled, outcome, reason, durationMs, now));
            }
            if (changed > 0 && !final)
            {
                db.AfterCommit(() => wakes.Request(due));
            }
            if (changed > 0 && final)
            {
                db.AddEvent(NotificationEvents.MessageFailedTopic,
                    NotificationEvents.Failed(email.UserId, email.Channel, email.Uuid, email.Category, email.NotificationKey, reason, email.Attempt, now));
            }
            logger.Log(final ? LogLevel.Error : LogLevel.Warning, "{Channel} {Message} attempt {Attempt} failed{Final}: {Reason}",
                email.Channel, email.Uuid, email.Attempt, final ? "; it is failed" : "; trying again later", reason);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Puts a message the binding's rate had no room for back to <c>scheduled</c> until there is, without spending the
    /// attempt; fenced by the lease like every outcome.
    /// </summary>
    private async Task DeferAsync(LeasedMessage message, string binding, DateTimeOffset until, List<MessageHistoryRecord> tried, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NotificationDbContext>();
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var changed = await db.Messages.Where(m => m.Id == message.Id && m.LeaseToken == message.Lease && m.Status == MessageStatuses.Sending)
            .ExecuteUpdateAsync(m => m.SetProperty(x => x.Status, MessageStatuses.Scheduled).SetProperty(x => x.DueAt, until)
                .SetProperty(x => x.AttemptCount, x => x.AttemptCount - 1)
                .SetProperty(x => x.LeaseToken, (Guid?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null)
                .SetProperty(x => x.UpdatedAt, now).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
        if (changed > 0)
        {
            db.History.AddRange(tried);
            db.History.Add(new MessageHistoryRecord
            {
                MessageId = message.Id, Status = MessageStatuses.Scheduled, Reason = "binding_rate", Actor = HistoryActors.Dispatcher, Binding = binding, At = now,
            });
            db.AfterCommit(() => wakes.Request(until));
            await db.SaveChangesAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The history entry of an attempt's outcome: the status it led to and what the provider answered.</summary>
    private static MessageHistoryRecord Attempt(LeasedMessage email, string? binding, string status, SendOutcome outcome, string? answer, int durationMs, DateTimeOffset now) => new()
    {
        MessageId = email.Id, Status = status, Reason = answer, Actor = HistoryActors.Dispatcher, Attempt = email.Attempt,
        Binding = binding, Outcome = outcome.ToString().ToLowerInvariant(), DurationMs = durationMs, At = now,
    };
}
