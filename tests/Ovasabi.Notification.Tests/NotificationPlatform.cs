using Google.Protobuf;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Notification.V1;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using GrpcDapr = Dapr.Client.Autogen.Grpc.v1;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// The notification app with the apps whose events it turns into messages (user, auth, finance), on PostgreSQL and
/// Redis servers of its own. Tests also publish finance's events themselves, through finance's sidecar, to choose their
/// CloudEvent ids.
/// </summary>
public sealed class NotificationPlatform() : FinancePlatform(new PostgresServer(), new RedisServer(), ownsServers: true, "notification")
{
    public const string NotificationAppId = "notification";

    /// <summary>
    /// Attempts before an email is failed: retries come 0.2, 0.4, 0.8, 1.6, then every 2 s after a failure, each woken
    /// at the next whole second: about 20 s from the second attempt to the last, the time a stopped SMTP server has to
    /// come back in the outage test (12 s was too little on a fresh-clone run with a load average of 28 on 2 cores).
    /// </summary>
    public const int MaxAttempts = 12;

    /// <summary>The SMS binding's rate limit (Notification:BindingRates:sms).</summary>
    public const int SmsPerSecond = 4;

    /// <summary>How long a failing binding is skipped (Notification:BreakDuration).</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(2);

    /// <summary>The SMTP server behind the <c>email</c> binding (components/email.yaml's, pointed at this platform's own).</summary>
    public MaildevServer Mail { get; } = new();

    /// <summary>A second SMTP server behind the <c>email-fallback</c> binding, which email falls back to.</summary>
    public MaildevServer MailFallback { get; } = new();

    /// <summary>The SMS provider behind the <c>sms</c> binding (bindings.http, as components/sms.yaml, posting here).</summary>
    public HttpSink Sms { get; private set; } = null!;

    /// <summary>A receiver of webhooks behind the <c>webhook</c> binding (bindings.http posting here; endpoints add their path).</summary>
    public HttpSink Webhooks { get; private set; } = null!;

    public string NotificationDatabase => Database(NotificationAppId);

    protected override async Task PrepareAsync()
    {
        foreach (var (name, server) in new[] { ("email", Mail), ("email-fallback", MailFallback) })
        {
            Own(server);
            await server.InitializeAsync();
            Resources.Component(name, "bindings.smtp", server.SmtpBindingMetadata("Ovasabi <no-reply@ovasabi.test>"));
        }
        Sms = Own(await HttpSink.StartAsync());
        Resources.Component("sms", "bindings.http", new Dictionary<string, string> { ["url"] = $"{Sms.Url}/sms", ["responseTimeout"] = "10s" });
        Webhooks = Own(await HttpSink.StartAsync());
        Resources.Component("webhook", "bindings.http", new Dictionary<string, string> { ["url"] = $"{Webhooks.Url}/hooks", ["responseTimeout"] = "10s" });
    }

    protected override void Configure(string appId, Dictionary<string, string?> settings)
    {
        if (appId == NotificationAppId)
        {
            // The sweep too slow for any test to wait for it: nudges after commits and wake-up jobs must do the work.
            settings["Notification__SweepInterval"] = "00:01:00";
            settings["Notification__WakeGranularity"] = "00:00:01";
            settings["Notification__BaseBackoff"] = "00:00:00.200";
            settings["Notification__MaxBackoff"] = "00:00:02";
            settings["Notification__MaxAttempts"] = $"{MaxAttempts}";
            settings["Notification__SmsBinding"] = "sms";
            settings["Notification__BindingRates__sms__PerSecond"] = $"{SmsPerSecond}";
            settings["Notification__EmailFallbacks__0"] = "email-fallback";
            settings["Notification__WebhookBindings__0"] = "webhook";
            // Announcements go out through MailKit to the same SMTP server (full MIME, one-click unsubscribe headers).
            settings["Notification__SmtpRelays__relay__Host"] = Mail.Host;
            settings["Notification__SmtpRelays__relay__Port"] = $"{Mail.Port}";
            settings["Notification__SmtpRelays__relay__Username"] = Mail.User;
            settings["Notification__SmtpRelays__relay__Password"] = Mail.Password;
            settings["Notification__SmtpRelays__relay__From"] = "Ovasabi <no-reply@ovasabi.test>";
            settings["Notification__EmailRoutes__announcements__0"] = "relay";
            settings["Notification__EmailRoutes__announcements__1"] = "email-fallback";
            settings["Notification__BreakDuration"] = BreakDuration.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A value of the notification database (straight to PostgreSQL).</summary>
    public Task<T> NotificationScalarAsync<T>(string sql, params (string Name, object Value)[] parameters) =>
        PostgresServer.ScalarAsync<T>(NotificationDatabase, sql, parameters);

    /// <summary>A new signed-in user who set the preference fields <paramref name="paths"/> to <paramref name="preferences"/>' values.</summary>
    public async Task<SignedInUser> SignUpWithPreferencesAsync(NotificationPreferences preferences, params string[] paths)
    {
        var user = await SignUpAsync();
        await Notification(user.AccessToken).UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = preferences, UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { paths } },
        });
        return user;
    }

    public NotificationService.NotificationServiceClient Notification(string? accessToken = null) => new(InvokerVia(GatewaySidecar, "notification", accessToken));

    /// <summary>Publishes <paramref name="payload"/> on <paramref name="topic"/> as finance's outbox does, with CloudEvent id <paramref name="eventId"/>.</summary>
    public async Task PublishAsFinanceAsync(FinanceTopic topic, IMessage payload, string eventId)
    {
        var finance = FinanceSidecar.CreateGrpcClient();
        await finance.PublishEventAsync(new GrpcDapr.PublishEventRequest
        {
            PubsubName = "pubsub",
            Topic = TopicName.Of(topic),
            Data = ByteString.CopyFromUtf8(JsonFormatter.Default.Format(payload)),
            DataContentType = "application/json",
            Metadata = { ["cloudevent.id"] = eventId },
        });
    }

    public static MovementCompleted Transfer(string from, string to, string transactionId, string amount = "25.00") => new()
    {
        TransactionId = transactionId,
        UserId = from,
        CounterpartyUserId = to,
        Amount = new Money { CurrencyCode = "EUR", DecimalAmount = amount },
        OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 7, 9, 30, 0, TimeSpan.Zero)),
    };

    public static MovementCompleted Deposit(string to, string transactionId, string amount = "10.00") => Transfer(to, "", transactionId, amount);
}
