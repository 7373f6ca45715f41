using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.Notification.Domain;

/// <summary>The notification service's settings (configuration section <c>Notification</c>), checked at start.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notification";

    /// <summary>The Dapr output binding email goes through (<c>bindings.smtp</c>, components/email.yaml).</summary>
    public string EmailBinding { get; set; } = "email";

    /// <summary>
    /// The Dapr output binding SMS goes through (<c>bindings.http</c> posting JSON, or <c>bindings.twilio.sms</c>, as
    /// <see cref="SmsProvider"/> says); empty: no SMS channel, and no SMS is written.
    /// </summary>
    public string SmsBinding { get; set; } = "";

    /// <summary><c>http</c>: POST <c>{"to","body","id"}</c> (an Idempotency-Key header too); <c>twilio</c>: Twilio's <c>create</c> with <c>toNumber</c>.</summary>
    public string SmsProvider { get; set; } = "http";

    /// <summary>
    /// How often a replica looks for due messages on its own: a commit nudges it at once and a Dapr job wakes it for
    /// what falls due later, so this sweep only finds abandoned sends and wake-ups that could not be scheduled.
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How finely wake-up jobs are spread: one job per bucket of this length at most.</summary>
    public TimeSpan WakeGranularity { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Sends in flight per replica.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>Attempts before a message is <c>failed</c>.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The wait after the first failed attempt; it doubles with each further one, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan BaseBackoff { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a replica owns a message it is sending; after that another replica (or it) tries again.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The page an email's unsubscribe link opens, with <c>?token=</c> appended: a page of the platform's web front that
    /// passes the token to <c>Unsubscribe</c> (no sign-in needed).
    /// </summary>
    public string UnsubscribeUrl { get; set; } = "http://localhost:8080/unsubscribe";

    public static IEnumerable<string> Problems(NotificationOptions o) =>
        Settings.Check(o.EmailBinding.Length > 0, $"{Section}:EmailBinding", "must name the email output binding")
            .Concat(Settings.Check(o.SmsProvider is "http" or "twilio", $"{Section}:SmsProvider", "must be http or twilio"))
            .Concat(Settings.Check(o.SweepInterval > TimeSpan.Zero && o.SweepInterval <= TimeSpan.FromMinutes(10), $"{Section}:SweepInterval", "must be more than 0 and at most 10 minutes"))
            .Concat(Settings.Check(o.WakeGranularity >= TimeSpan.FromSeconds(1) && o.WakeGranularity <= TimeSpan.FromMinutes(1), $"{Section}:WakeGranularity", "must be between 1 second and a minute"))
            .Concat(Settings.Check(o.Concurrency is > 0 and <= 64, $"{Section}:Concurrency", "must be between 1 and 64"))
            .Concat(Settings.Check(o.MaxAttempts is > 0 and <= 20, $"{Section}:MaxAttempts", "must be between 1 and 20"))
            .Concat(Settings.Check(o.BaseBackoff > TimeSpan.Zero && o.BaseBackoff <= o.MaxBackoff, $"{Section}:BaseBackoff", "must be more than 0 and at most MaxBackoff"))
            .Concat(Settings.Check(o.LeaseDuration >= TimeSpan.FromSeconds(10), $"{Section}:LeaseDuration", "must be at least 10 seconds"))
            .Concat(Settings.Check(Uri.TryCreate(o.UnsubscribeUrl, UriKind.Absolute, out var page) && page.Scheme is "http" or "https" && page.Query.Length == 0 && page.Fragment.Length == 0,
                $"{Section}:UnsubscribeUrl", "must be an absolute http(s) URL without a query or fragment"));
}
