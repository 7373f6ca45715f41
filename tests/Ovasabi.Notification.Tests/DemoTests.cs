using Ovasabi.Auth.V1.Events;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Notification.Tests;

/// <summary>`make demo` (tools/Ovasabi.Demo) run as a process, by its command line, against this assembly's platform.</summary>
[Collection(MailCollection.Name)]
public sealed class DemoTests(NotificationPlatform platform)
{
    private Dictionary<string, string> Options() => new()
    {
        // The gateway's sidecar, as `make run`'s: the clients' way in, which acts only with the users' tokens.
        ["--sidecar"] = $"http://127.0.0.1:{platform.GatewaySidecar.GrpcPort}",
        ["--user-app-id"] = AppPlatform.UserAppId,
        ["--auth-app-id"] = AppPlatform.AuthAppId,
        ["--finance-app-id"] = FinancePlatform.FinanceAppId,
        ["--notification-app-id"] = "notification",
        ["--admin-login"] = AppPlatform.AdminUsername,
        ["--admin-password"] = AppPlatform.AdminPassword,
        ["--user-db"] = platform.UserDatabase,
        ["--auth-db"] = platform.AuthDatabase,
        ["--finance-db"] = platform.FinanceDatabase,
        ["--mail-api"] = platform.Mail.ApiUrl,
        ["--webhook-binding"] = "webhook",
        ["--http-sink"] = platform.Webhooks.Url,
        ["--event-timeout"] = $"{EventTimeout.TotalSeconds}",
    };

    private static async Task<(int ExitCode, string[] Lines)> RunAsync(Dictionary<string, string> options)
    {
        var demo = SidecarProcess.BuiltAssembly(Path.Combine("tools", "Ovasabi.Demo"), "ovasabi-demo.dll");
        await using var process = ManagedProcess.Start(new ProcessCommand("dotnet", [demo, .. options.SelectMany(o => new[] { o.Key, o.Value })])
        {
            Name = "ovasabi-demo",
        });
        await process.WaitForExitAsync(TimeSpan.FromMinutes(3), Cancel);
        return (process.ExitCode, process.Output.Split('\n'));
    }

    private static void HasLine(string[] lines, string start, string? containing = null) =>
        Assert.True(lines.Any(l => l.StartsWith(start, StringComparison.Ordinal) && (containing is null || l.Contains(containing, StringComparison.Ordinal))),
            $"no line starting '{start}'{(containing is null ? "" : $" with '{containing}'")}:\n{string.Join('\n', lines)}");

    [Fact]
    public async Task The_demo_passes_every_step_and_shows_the_published_events_and_the_audit_trail()
    {
        var (exitCode, lines) = await RunAsync(Options());

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{string.Join('\n', lines)}");
        Assert.DoesNotContain(lines, l => l.StartsWith('✗'));
        HasLine(lines, "✓ deposit 100.00 EUR to A (as admin)", "transaction ");
        HasLine(lines, "✓ transfer 25.00 EUR A → B (as A)", "idempotency key ");
        HasLine(lines, "✓ send the transfer again, same key", "no second transfer");
        HasLine(lines, "✓ balance of A (as A)", "75.00 EUR available");
        HasLine(lines, "✓ balance of B (as B)", "25.00 EUR available");
        HasLine(lines, "✓ in-app item of A about the transfer (as A)", "\"You sent 25.00 EUR to demo-bob-");
        HasLine(lines, "✓ in-app item of B about the transfer (as B)", " sent you 25.00 EUR\"");
        HasLine(lines, "✓ register a webhook endpoint for B (as admin)", "webhook /demo/");
        HasLine(lines, "✓ signed webhook to B (read back from the HTTP sink)", "signature verified");
        HasLine(lines, "✓ emails to A and B (read back from the SMTP server)", "both arrived");
        HasLine(lines, "✓ B marks it read (as B)", "1 unread left");
        HasLine(lines, "✓ events published", "7,");
        // One line per event: the service's app ID, the topic, and the payload with the scenario's IDs named.
        int Events(string topic) => lines.Count(l => l.Contains($" {topic} ", StringComparison.Ordinal));
        Assert.Equal((2, 3, 1, 1), (Events(TopicName.Of(UserTopic.UserCreated)), Events(TopicName.Of(AuthTopic.LoginSucceeded)), Events(TopicName.Of(FinanceTopic.DepositCompleted)), Events(TopicName.Of(FinanceTopic.TransferCompleted))));
        Assert.Contains(lines, l => l.Contains(" finance.transfer.completed ", StringComparison.Ordinal) && l.Contains("\"counterpartyUserId\": \"B\"", StringComparison.Ordinal));
        HasLine(lines, "    deposit   by user:admin", "A 0.00 EUR → 100.00 EUR");
        HasLine(lines, "    transfer  by user:A", "A 100.00 EUR → 75.00 EUR, B 0.00 EUR → 25.00 EUR");
        Assert.Equal("✓ demo passed: 19 steps", lines.Last(l => l.Length > 0));
    }

    [Fact]
    public async Task A_failing_step_stops_the_demo_with_its_gRPC_status_and_a_non_zero_exit_code()
    {
        var options = Options();
        options["--admin-password"] = "not the admin passphrase";

        var (exitCode, lines) = await RunAsync(options);

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{string.Join('\n', lines)}");
        HasLine(lines, "✓ log in as B (auth service)");
        HasLine(lines, $"✗ log in as the administrator {AppPlatform.AdminUsername}", "Unauthenticated (INVALID_CREDENTIALS): invalid login or password");
        Assert.DoesNotContain(lines, l => l.StartsWith("✓ deposit", StringComparison.Ordinal));
        Assert.Equal("✗ demo failed after 4 step(s)", lines.Last(l => l.Length > 0));
    }
}
