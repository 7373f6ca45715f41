using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Npgsql;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Testing;
using static System.FormattableString;
using GrpcDapr = Dapr.Client.Autogen.Grpc.v1;

namespace Ovasabi.Bench.Notification;

/// <summary>What one notification run does.</summary>
internal sealed record NotificationBenchOptions(int Users, int Messages, IReadOnlyList<int> Producers, string Output);

/// <summary>One producer count's figures: the SMTP server taking the messages directly, then the platform making and sending them from events.</summary>
internal sealed record NotificationPhase(int Producers, int DirectSent, TimeSpan DirectElapsed, Latency? Direct, int Events, int EmailsSent, int Failed, TimeSpan Elapsed,
    Latency? ToInbox, Latency? ToSmtp, IReadOnlyList<(string Name, TimeSpan Used)> Cpu)
{
    public double DirectRate => DirectSent / DirectElapsed.TotalSeconds;

    public double Rate => EmailsSent / Elapsed.TotalSeconds;
}

/// <summary>
/// The notification benchmark: <c>finance.deposit.completed</c> events published through finance's sidecar by N
/// concurrent producers, each becoming an in-app item and an email the notification app sends through bindings.smtp
/// to maildev; next to maildev's own accept rate for the same messages sent to it directly by N MailKit clients.
/// </summary>
internal static class NotificationBenchmark
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(NotificationBenchOptions options, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var loadBefore = Benchmark.LoadAverage();
        Environment.SetEnvironmentVariable("DOTNET_TC_CallCountingDelayMs", "0");
        var platform = new NotificationBenchPlatform();
        try
        {
            Log("starting the platform: PostgreSQL, Redis, maildev, user, auth, finance and notification apps with their dev sidecars");
            await platform.InitializeAsync();
            var users = new string[options.Users];
            for (var i = 0; i < users.Length; i++)
            {
                users[i] = await platform.NewUserIdAsync();
            }
            await DrainAsync(platform, "user.user.created:%", users.Length, cancellationToken);
            Log($"{users.Length} users, their welcome emails sent; warming up with 100 events");
            await FullStackAsync(platform, users, 8, 100, "warmup", cancellationToken);
            var (subject, html) = await SampleAsync(platform);

            var phases = new List<NotificationPhase>();
            foreach (var producers in options.Producers)
            {
                Log($"{producers} producers: {options.Messages} messages straight to maildev");
                var direct = await SmtpDirect.RunAsync(platform.Mail, producers, options.Messages, subject, html, cancellationToken);
                Log($"{producers} producers: {options.Messages} events through the platform");
                var cpu = platform.Cpu();
                var before = cpu.Read();
                var full = await FullStackAsync(platform, users, producers, options.Messages, $"p{producers}", cancellationToken);
                phases.Add(new NotificationPhase(producers, direct.Sent, direct.Elapsed, Latency.Of(direct.Milliseconds), options.Messages, full.Sent, full.Failed, full.Elapsed,
                    Latency.Of(full.ToInbox), Latency.Of(full.ToSmtp), ProcessCpu.Between(before, cpu.Read())));
                Log(Invariant($"{producers} producers: direct {phases[^1].DirectRate:N0}/s, platform {phases[^1].Rate:N1}/s"));
            }
            return await Benchmark.WriteReportAsync(Markdown(options, startedAt, loadBefore, Benchmark.LoadAverage(), phases), options.Output);
        }
        catch (Exception e)
        {
            return await Benchmark.FailedAsync(e, cancellationToken);
        }
        finally
        {
            await Benchmark.StopAsync(platform);
        }
    }

    /// <summary>
    /// Publishes <paramref name="events"/> deposits from <paramref name="producers"/> concurrent producers, as fast as the
    /// sidecar takes them, then waits until every email is sent; times from the first publication to the last email
    /// accepted by the SMTP server, and each event's times to its in-app item and to its email.
    /// </summary>
    private static async Task<(int Sent, int Failed, TimeSpan Elapsed, List<double> ToInbox, List<double> ToSmtp)> FullStackAsync(
        NotificationBenchPlatform platform, string[] users, int producers, int events, string phase, CancellationToken cancellationToken)
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        var prefix = $"bench-{phase}-{run}-";
        var finance = platform.FinanceSidecar.CreateGrpcClient();
        var published = new ConcurrentDictionary<string, DateTime>();
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, producers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) is var n && n <= events)
            {
                var transaction = prefix + n;
                var deposit = new MovementCompleted
                {
                    TransactionId = transaction, UserId = users[n % users.Length], Amount = new Money { CurrencyCode = "EUR", DecimalAmount = "10.00", MinorUnits = 1000 },
                    OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
                };
                published[transaction] = DateTime.UtcNow;
                await finance.PublishEventAsync(new GrpcDapr.PublishEventRequest
                {
                    PubsubName = "pubsub", Topic = TopicName.Of(FinanceTopic.DepositCompleted), Data = ByteString.CopyFromUtf8(JsonFormatter.Default.Format(deposit)),
                    DataContentType = "application/json", Metadata = { ["cloudevent.id"] = transaction },
                }, cancellationToken: cancellationToken);
            }
        }, cancellationToken)));
        await DrainAsync(platform, $"finance.deposit.completed:{prefix}%", events, cancellationToken);
        var elapsed = clock.Elapsed;
        var toInbox = new List<double>();
        var toSmtp = new List<double>();
        var (sent, failed) = (0, 0);
        await using var connection = new NpgsqlConnection(platform.NotificationDatabase);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT source_key, channel, status, sent_at FROM service_notification_message WHERE source_key LIKE @prefix AND channel IN ('email', 'in_app')", connection);
        command.Parameters.AddWithValue("prefix", $"finance.deposit.completed:{prefix}%");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var last = DateTime.MinValue;
        while (await reader.ReadAsync(cancellationToken))
        {
            var at = reader.IsDBNull(3) ? (DateTime?)null : reader.GetFieldValue<DateTime>(3);
            var from = published[reader.GetString(0)["finance.deposit.completed:".Length..]];
            var email = reader.GetString(1) == "email";
            if (at is { } time)
            {
                (email ? toSmtp : toInbox).Add((time - from).TotalMilliseconds);
                last = email && time > last ? time : last;
                sent += email ? 1 : 0;
            }
            failed += email && reader.GetString(2) == "failed" ? 1 : 0;
        }
        // From the first publication to the last email the server accepted (the drain poll only notices it later).
        var span = last > DateTime.MinValue ? last - published.Values.Min() : elapsed;
        return (sent, failed, span, toInbox, toSmtp);
    }

    /// <summary>Waits until <paramref name="count"/> emails of facts matching <paramref name="sourceKeys"/> are sent or failed.</summary>
    private static async Task DrainAsync(NotificationBenchPlatform platform, string sourceKeys, int count, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + DrainTimeout;
        while (true)
        {
            var done = await PostgresServer.ScalarAsync<long>(platform.NotificationDatabase,
                "SELECT count(*) FROM service_notification_message WHERE channel = 'email' AND source_key LIKE @keys AND status IN ('sent', 'failed')", ("keys", sourceKeys));
            if (done >= count)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{done} of {count} emails ({sourceKeys}) sent after {DrainTimeout.TotalMinutes:0} min");
            }
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>A deposit email as the platform rendered it, for the direct phase to send the same bytes.</summary>
    private static async Task<(string Subject, string Html)> SampleAsync(NotificationBenchPlatform platform)
    {
        var subject = await PostgresServer.ScalarAsync<string>(platform.NotificationDatabase,
            "SELECT subject FROM service_notification_message WHERE notification_key = 'finance.deposit_completed' AND channel = 'email' LIMIT 1");
        var html = await PostgresServer.ScalarAsync<string>(platform.NotificationDatabase,
            "SELECT body_html FROM service_notification_message WHERE notification_key = 'finance.deposit_completed' AND channel = 'email' LIMIT 1");
        return (subject, html);
    }

    private static string Markdown(NotificationBenchOptions options, DateTimeOffset startedAt, string loadBefore, string loadAfter, List<NotificationPhase> phases)
    {
        static string Ms(Latency? l, Func<Latency, double> pick) => l is null ? "–" : Invariant($"{pick(l):N1}");
        var lines = new List<string>
        {
            Invariant($"# Notification benchmark, {startedAt:yyyy-MM-dd HH:mm} UTC"),
            "",
            Invariant($"{Environment.ProcessorCount} cores, load average {loadBefore} before and {loadAfter} after; {options.Users} users, {options.Messages} events per phase,"),
            "each a `finance.deposit.completed` event that becomes an in-app item and an email (bindings.smtp to maildev). The notification app",
            "runs with its defaults (16 sends at once) and no per-recipient limit. Direct: the same subject and HTML sent to the same maildev by",
            "as many MailKit clients, each on one authenticated connection.",
            "",
            "| producers | direct msg/s | platform emails/s | platform ÷ direct | direct send p50 / p99 ms | event → inbox p50 / p99 ms | event → SMTP accepted p50 / p99 ms | failed |",
            "|---|---|---|---|---|---|---|---|",
        };
        lines.AddRange(phases.Select(p => Invariant(
            $"| {p.Producers} | {p.DirectRate:N0} | {p.Rate:N1} | {p.Rate / p.DirectRate:P1} | {Ms(p.Direct, l => l.P50)} / {Ms(p.Direct, l => l.P99)} | {Ms(p.ToInbox, l => l.P50)} / {Ms(p.ToInbox, l => l.P99)} | {Ms(p.ToSmtp, l => l.P50)} / {Ms(p.ToSmtp, l => l.P99)} | {p.Failed} |")));
        lines.Add("");
        lines.Add("CPU per event (ms), platform phase:");
        lines.Add("");
        lines.Add("| process | " + string.Join(" | ", phases.Select(p => $"{p.Producers} producers")) + " |");
        lines.Add("|---|" + string.Concat(phases.Select(_ => "---|")));
        foreach (var name in phases[0].Cpu.Select(c => c.Name).Where(n => phases.Any(p => p.Cpu.First(c => c.Name == n).Used > TimeSpan.FromMilliseconds(50))))
        {
            lines.Add($"| {name} | " + string.Join(" | ", phases.Select(p => Invariant($"{p.Cpu.First(c => c.Name == name).Used.TotalMilliseconds / p.Events:N2}"))) + " |");
        }
        return string.Join('\n', lines) + "\n";
    }

    private static void Log(string message) => Benchmark.Log(message);
}
