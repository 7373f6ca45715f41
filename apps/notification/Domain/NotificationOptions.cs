using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.Notification.Domain;

/// <summary>At most <see cref="Count"/> messages within <see cref="Window"/>; a count of 0 is no limit.</summary>
public sealed class RateLimit
{
    public int Count { get; set; }

    public TimeSpan Window { get; set; }

    public IEnumerable<string> Problems(string setting) =>
        Settings.Check(Count >= 0, $"{setting}:Count", "must not be negative")
            .Concat(Settings.Check(Window >= TimeSpan.FromSeconds(1) && Window <= TimeSpan.FromDays(7), $"{setting}:Window", "must be between 1 second and 7 days"));
}

/// <summary>At most <see cref="PerSecond"/> messages a second through one binding, across every replica, <see cref="Burst"/> at once.</summary>
public sealed class BindingRate
{
    public double PerSecond { get; set; }

    public int Burst { get; set; } = 1;

    public IEnumerable<string> Problems(string setting) =>
        Settings.Check(PerSecond is > 0 and <= 10_000, $"{setting}:PerSecond", "must be more than 0 and at most 10000")
            .Concat(Settings.Check(Burst is >= 1 and <= 10_000, $"{setting}:Burst", "must be between 1 and 10000"));
}

/// <summary>
/// An SMTP server the service sends to itself with MailKit, for mail daprd's <c>bindings.smtp</c> cannot build: a plain
/// text part next to the HTML and the one-click unsubscribe headers (RFC 8058) that large mailbox providers require of
/// bulk senders. Named in an email chain like a binding.
/// </summary>
public sealed class SmtpRelay
{
    public string Host { get; set; } = "";

    public int Port { get; set; } = 587;

    /// <summary><c>auto</c> (TLS on 465, STARTTLS when offered), <c>starttls</c> (required), <c>tls</c> (on connect), <c>none</c>.</summary>
    public string Security { get; set; } = "auto";

    /// <summary>Empty: no authentication.</summary>
    public string Username { get; set; } = "";

    public string Password { get; set; } = "";

    /// <summary>The sender, e.g. <c>Ovasabi &lt;no-reply@example.com&gt;</c>; its domain also names the Message-ID.</summary>
    public string From { get; set; } = "";

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Accept any certificate: only for a relay whose certificate is self-signed.</summary>
    public bool SkipTlsVerify { get; set; }

    public IEnumerable<string> Problems(string setting) =>
        Settings.Check(Host.Length > 0, $"{setting}:Host", "must name the SMTP server")
            .Concat(Settings.Check(Port is > 0 and < 65536, $"{setting}:Port", "must be a TCP port"))
            .Concat(Settings.Check(Security is "auto" or "starttls" or "tls" or "none", $"{setting}:Security", "must be auto, starttls, tls or none"))
            .Concat(Settings.Check(MimeKit.MailboxAddress.TryParse(From, out _), $"{setting}:From", "must be an email address, e.g. Ovasabi <no-reply@example.com>"))
            .Concat(Settings.Check(Timeout >= TimeSpan.FromSeconds(1) && Timeout <= TimeSpan.FromMinutes(5), $"{setting}:Timeout", "must be between 1 second and 5 minutes"));
}

/// <summary>The notification service's settings (configuration section <c>Notification</c>), checked at start.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notification";

    /// <summary>The Dapr output binding email goes through (<c>bindings.smtp</c>, components/email.yaml).</summary>
    public string EmailBinding { get; set; } = "email";

    /// <summary>
    /// Bindings tried in order when <see cref="EmailBinding"/> fails transiently or its breaker is open (provider
    /// fallback), e.g. a second relay; none by default.
    /// </summary>
    public List<string> EmailFallbacks { get; set; } = [];

    /// <summary>How long a binding that keeps failing is skipped before it is tried again (its circuit breaker).</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The email bindings in the order they are tried.</summary>
    public IReadOnlyList<string> EmailChain => [EmailBinding, .. EmailFallbacks];

    /// <summary>SMTP servers the service sends to itself (MailKit), by the name an email chain gives them; none by default.</summary>
    public Dictionary<string, SmtpRelay> SmtpRelays { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Email chains of their own for some categories, e.g. announcements through an <see cref="SmtpRelay"/> (bulk mail
    /// needs one-click unsubscribe headers) with a binding as fallback; other categories use <see cref="EmailChain"/>.
    /// </summary>
    public Dictionary<string, List<string>> EmailRoutes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Messages per second each binding (or relay) may take, shared by every replica, e.g. a provider's sending quota;
    /// a binding not listed has no limit. A message over it waits (up to 2 s, then it is rescheduled, no attempt spent).
    /// </summary>
    public Dictionary<string, BindingRate> BindingRates { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The bindings and relays email of <paramref name="category"/> tries, in order.</summary>
    public IReadOnlyList<string> EmailChainFor(string category) => EmailRoutes.TryGetValue(category, out var route) ? route : EmailChain;

    /// <summary>
    /// The Dapr output binding SMS goes through (<c>bindings.http</c> posting JSON, or <c>bindings.twilio.sms</c>, as
    /// <see cref="SmsProvider"/> says); empty: no SMS channel, and no SMS is written.
    /// </summary>
    public string SmsBinding { get; set; } = "";

    /// <summary><c>http</c>: POST <c>{"to","body","id"}</c> (an Idempotency-Key header too); <c>twilio</c>: Twilio's <c>create</c> with <c>toNumber</c>.</summary>
    public string SmsProvider { get; set; } = "http";

    /// <summary>
    /// The bindings.http components webhook endpoints may post through (each an operator-chosen base URL; an endpoint
    /// adds its path); none: no endpoint can be registered.
    /// </summary>
    public List<string> WebhookBindings { get; set; } = [];

    /// <summary>
    /// How often a replica looks for due messages on its own: a commit nudges it at once and a Dapr job wakes it for
    /// what falls due later, so this sweep only finds abandoned sends and wake-ups that could not be scheduled.
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How finely wake-up jobs are spread: one job per bucket of this length at most.</summary>
    public TimeSpan WakeGranularity { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Sends in flight per replica. A send mostly waits on the provider (bindings.smtp opens a connection per message),
    /// so more in flight raise the rate: 4 gave 30 emails/s in the benchmark, 16 gave 80 at less CPU per email.
    /// </summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>Attempts before a message is <c>failed</c>.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The wait after the first failed attempt; it doubles with each further one, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan BaseBackoff { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a replica owns a message it is sending; after that another replica (or it) tries again.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Non-critical emails per recipient and category within the window (10 an hour); beyond it a message is written
    /// <c>throttled</c>, reason <c>rate_limit</c>: recorded, never sent. Critical messages are never limited.
    /// </summary>
    public RateLimit EmailLimit { get; set; } = new() { Count = 10, Window = TimeSpan.FromHours(1) };

    /// <summary>The same for SMS (5 an hour).</summary>
    public RateLimit SmsLimit { get; set; } = new() { Count = 5, Window = TimeSpan.FromHours(1) };

    /// <summary>The limit of a channel, or null where there is none (in-app items, a count of 0).</summary>
    public RateLimit? LimitOf(string channel) => channel switch
    {
        Channels.Email when EmailLimit.Count > 0 => EmailLimit,
        Channels.Sms when SmsLimit.Count > 0 => SmsLimit,
        _ => null,
    };

    /// <summary>
    /// The page an email's unsubscribe link opens, with <c>?token=</c> appended: a page of the platform's web front that
    /// passes the token to <c>Unsubscribe</c> (no sign-in needed).
    /// </summary>
    public string UnsubscribeUrl { get; set; } = "http://localhost:8080/unsubscribe";

    public static IEnumerable<string> Problems(NotificationOptions o) =>
        Settings.Check(o.EmailBinding.Length > 0, $"{Section}:EmailBinding", "must name the email output binding")
            .Concat(Settings.Check(o.EmailChain.All(b => b.Length > 0) && o.EmailChain.Distinct().Count() == o.EmailChain.Count, $"{Section}:EmailFallbacks", "must name bindings, each once and other than EmailBinding"))
            .Concat(Settings.Check(o.BreakDuration >= TimeSpan.FromSeconds(1) && o.BreakDuration <= TimeSpan.FromMinutes(10), $"{Section}:BreakDuration", "must be between 1 second and 10 minutes"))
            .Concat(o.SmtpRelays.SelectMany(r => r.Value.Problems($"{Section}:SmtpRelays:{r.Key}")))
            // Connect, authenticate, send: an attempt must end within the lease, or another replica sends it again.
            .Concat(o.SmtpRelays.SelectMany(r => Settings.Check(r.Value.Timeout * 3 < o.LeaseDuration, $"{Section}:SmtpRelays:{r.Key}:Timeout", "must be less than a third of LeaseDuration")))
            .Concat(o.BindingRates.SelectMany(r => r.Value.Problems($"{Section}:BindingRates:{r.Key}")))
            .Concat(o.EmailRoutes.SelectMany(r =>
                Settings.Check(Category.Named(r.Key) is not null, $"{Section}:EmailRoutes:{r.Key}", $"must be a category: {string.Join(", ", Category.All.Select(c => c.Name))}")
                    .Concat(Settings.Check(r.Value.Count > 0 && r.Value.All(b => b.Length > 0) && r.Value.Distinct().Count() == r.Value.Count,
                        $"{Section}:EmailRoutes:{r.Key}", "must name bindings or relays, each once"))))
            .Concat(Settings.Check(o.WebhookBindings.All(b => b.Length > 0) && o.WebhookBindings.Distinct().Count() == o.WebhookBindings.Count, $"{Section}:WebhookBindings", "must name bindings, each once"))
            .Concat(Settings.Check(o.SmsProvider is "http" or "twilio", $"{Section}:SmsProvider", "must be http or twilio"))
            .Concat(o.EmailLimit.Problems($"{Section}:EmailLimit"))
            .Concat(o.SmsLimit.Problems($"{Section}:SmsLimit"))
            .Concat(Settings.Check(o.SweepInterval > TimeSpan.Zero && o.SweepInterval <= TimeSpan.FromMinutes(10), $"{Section}:SweepInterval", "must be more than 0 and at most 10 minutes"))
            .Concat(Settings.Check(o.WakeGranularity >= TimeSpan.FromSeconds(1) && o.WakeGranularity <= TimeSpan.FromMinutes(1), $"{Section}:WakeGranularity", "must be between 1 second and a minute"))
            .Concat(Settings.Check(o.Concurrency is > 0 and <= 64, $"{Section}:Concurrency", "must be between 1 and 64"))
            .Concat(Settings.Check(o.MaxAttempts is > 0 and <= 20, $"{Section}:MaxAttempts", "must be between 1 and 20"))
            .Concat(Settings.Check(o.BaseBackoff > TimeSpan.Zero && o.BaseBackoff <= o.MaxBackoff, $"{Section}:BaseBackoff", "must be more than 0 and at most MaxBackoff"))
            .Concat(Settings.Check(o.LeaseDuration >= TimeSpan.FromSeconds(10), $"{Section}:LeaseDuration", "must be at least 10 seconds"))
            .Concat(Settings.Check(Uri.TryCreate(o.UnsubscribeUrl, UriKind.Absolute, out var page) && page.Scheme is "http" or "https" && page.Query.Length == 0 && page.Fragment.Length == 0,
                $"{Section}:UnsubscribeUrl", "must be an absolute http(s) URL without a query or fragment"));
}
