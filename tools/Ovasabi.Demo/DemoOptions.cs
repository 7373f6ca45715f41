using System.CommandLine;

namespace Ovasabi.Demo;

/// <summary>Where the platform is. The defaults are the local platform of <c>dapr.yaml</c> (<c>make run</c>).</summary>
internal sealed record DemoOptions(
    Uri Sidecar,
    string UserAppId,
    string AuthAppId,
    string FinanceAppId,
    string NotificationAppId,
    string AdminLogin,
    string AdminPassword,
    string UserDatabase,
    string AuthDatabase,
    string FinanceDatabase,
    Uri MailApi,
    string WebhookBinding,
    Uri HttpSink,
    TimeSpan EventTimeout);

/// <summary>The command line; every option can also come from an environment variable (OVASABI_DEMO_*), the option winning.</summary>
internal sealed class DemoCommand
{
    private const string LocalPostgres = "Host=127.0.0.1;Port=5433;Username=postgres;Database=";

    private readonly Option<string> sidecar = Setting("--sidecar", "http://127.0.0.1:50100",
        "gRPC endpoint of the Dapr sidecar every call goes through (dapr-app-id names the app): the gateway's, the clients' way in");
    private readonly Option<string> userAppId = Setting("--user-app-id", "user", "App ID of the user service");
    private readonly Option<string> authAppId = Setting("--auth-app-id", "auth", "App ID of the auth service");
    private readonly Option<string> financeAppId = Setting("--finance-app-id", "finance", "App ID of the finance service");
    private readonly Option<string> notificationAppId = Setting("--notification-app-id", "notification", "App ID of the notification service");
    private readonly Option<string> adminLogin = Setting("--admin-login", "ovasabi-admin", "The bootstrap administrator (User__BootstrapAdmin__Username in dapr.yaml)");
    private readonly Option<string> adminPassword = Setting("--admin-password", "local admin passphrase", "The bootstrap administrator's password");
    private readonly Option<string> userDatabase = Setting("--user-db", LocalPostgres + "user", "Npgsql connection string of the user service's database");
    private readonly Option<string> authDatabase = Setting("--auth-db", LocalPostgres + "auth", "Npgsql connection string of the auth service's database");
    private readonly Option<string> financeDatabase = Setting("--finance-db", LocalPostgres + "finance", "Npgsql connection string of the finance service's database");
    private readonly Option<string> mailApi = Setting("--mail-api", "http://127.0.0.1:1080", "The web inbox of the SMTP server the email binding sends to (maildev's REST API, `make run` starts it)");
    private readonly Option<string> webhookBinding = Setting("--webhook-binding", "webhook", "The bindings.http component webhooks go through (Notification__WebhookBindings in dapr.yaml)");
    private readonly Option<string> httpSink = Setting("--http-sink", "http://127.0.0.1:1090", "The HTTP server behind the webhook binding, listing what it received at /messages (`make run` starts it)");
    private readonly Option<string> eventTimeout = Setting("--event-timeout", "30", "Seconds to wait for the scenario's events to be published and its notifications to arrive");

    public RootCommand Root { get; }

    public DemoCommand()
    {
        Root = new RootCommand("A short scenario against the running platform (`make run`): users, sign-in, a deposit, a transfer, balances, history, the emails, in-app items and a signed webhook of the transfer, then the events and the finance audit trail it left.")
        {
            sidecar, userAppId, authAppId, financeAppId, notificationAppId, adminLogin, adminPassword, userDatabase, authDatabase, financeDatabase, mailApi, webhookBinding, httpSink, eventTimeout,
        };
    }

    /// <exception cref="ArgumentException">An option's value is unusable.</exception>
    public DemoOptions Bind(ParseResult parse)
    {
        string Value(Option<string> option) =>
            parse.GetValue(option) is { Length: > 0 } value ? value : throw new ArgumentException($"{option.Name} must not be empty");

        if (!Uri.TryCreate(Value(sidecar), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--sidecar must be an http:// or https:// URL, not '{parse.GetValue(sidecar)}'");
        }
        if (!Uri.TryCreate(Value(mailApi), UriKind.Absolute, out var mail) || mail.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--mail-api must be an http:// or https:// URL, not '{parse.GetValue(mailApi)}'");
        }
        if (!Uri.TryCreate(Value(httpSink), UriKind.Absolute, out var sink) || sink.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--http-sink must be an http:// or https:// URL, not '{parse.GetValue(httpSink)}'");
        }
        if (!int.TryParse(Value(eventTimeout), out var seconds) || seconds < 1)
        {
            throw new ArgumentException("--event-timeout must be a positive number of seconds");
        }
        return new DemoOptions(endpoint, Value(userAppId), Value(authAppId), Value(financeAppId), Value(notificationAppId), Value(adminLogin), Value(adminPassword),
            Value(userDatabase), Value(authDatabase), Value(financeDatabase), mail, Value(webhookBinding), sink, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>An option whose default is OVASABI_DEMO_&lt;NAME&gt; when set (e.g. OVASABI_DEMO_ADMIN_PASSWORD), else <paramref name="fallback"/>.</summary>
    private static Option<string> Setting(string name, string fallback, string description)
    {
        var variable = "OVASABI_DEMO_" + name.TrimStart('-').Replace('-', '_').ToUpperInvariant();
        return new Option<string>(name)
        {
            Description = $"{description} (env {variable})",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) ?? fallback,
        };
    }
}
