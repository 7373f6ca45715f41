using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Bench.Notification;

/// <summary>
/// The notification app with the apps whose events it turns into messages (user, auth, finance), on PostgreSQL, Redis
/// and a maildev of its own, email through bindings.smtp as <c>make run</c> has it, with the per-recipient limits off
/// (the bench measures throughput, and sends each user more than ten emails an hour).
/// </summary>
internal sealed class NotificationBenchPlatform() : FinancePlatform(new PostgresServer(), new RedisServer(), ownsServers: true, NotificationAppId)
{
    public const string NotificationAppId = "notification";

    public MaildevServer Mail { get; } = new();

    public string NotificationDatabase => Database(NotificationAppId);

    protected override async Task PrepareAsync()
    {
        Own(Mail);
        await Mail.InitializeAsync();
        Resources.Component("email", "bindings.smtp", Mail.SmtpBindingMetadata("Ovasabi <no-reply@ovasabi.bench>"));
    }

    protected override void Configure(string appId, Dictionary<string, string?> settings)
    {
        if (appId == NotificationAppId)
        {
            settings["Notification__EmailLimit__Count"] = "0";
        }
    }

    /// <summary>The apps and sidecars whose CPU time a phase reports, by name.</summary>
    public ProcessCpu Cpu() => new(
    [
        .. Apps.Select(app => ($"{app} app", (Func<TimeSpan>)(() => App(app).CpuTime))),
        .. Apps.Select(app => ($"{app} sidecar", (Func<TimeSpan>)(() => Sidecar(app).CpuTime))),
    ]);
}
