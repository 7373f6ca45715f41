using System.Text.Json;

namespace Ovasabi.Testing;

/// <summary>
/// An SMTP server for a test run: maildev (run by node), which keeps every mail it receives and lists them over its
/// REST API (<c>GET /api/email</c>). Like a real relay it takes mail only after AUTH as <see cref="User"/> with
/// <see cref="Password"/>; it offers no TLS.
/// </summary>
public sealed class MaildevServer : ServerFixture
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MailTimeout = TimeSpan.FromSeconds(15);
    private static readonly HttpClient Api = new();

    private readonly ToolLocator tools;
    private int webPort;

    public MaildevServer()
        : this(ToolLocator.Default)
    {
    }

    internal MaildevServer(ToolLocator tools)
    {
        this.tools = tools;
    }

    public string User => "ovasabi";

    public string Password => "maildev";

    /// <summary>The metadata of a <c>bindings.smtp</c> component that sends here, as <paramref name="from"/>.</summary>
    public Dictionary<string, string> SmtpBindingMetadata(string from) => new()
    {
        ["host"] = Host,
        ["port"] = $"{Port}",
        ["user"] = User,
        ["password"] = Password,
        ["emailFrom"] = from,
    };

    /// <summary>The base address of the REST API and web inbox.</summary>
    public string ApiUrl => $"http://{Host}:{webPort}";

    /// <summary>Every mail received so far, as maildev lists them (from, to, cc, calculatedBcc, envelope, subject, html, ...).</summary>
    public async Task<IReadOnlyList<JsonElement>> MailsAsync(CancellationToken cancellationToken = default)
    {
        await using var body = await Api.GetStreamAsync($"{ApiUrl}/api/email", cancellationToken);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        return [.. document.RootElement.EnumerateArray().Select(mail => mail.Clone())];
    }

    /// <summary>The first mail with <paramref name="subject"/>, waiting up to 15 s for it to arrive.</summary>
    public Task<JsonElement> WaitForMailAsync(string subject, CancellationToken cancellationToken = default) =>
        WaitForMailAsync(subject, _ => true, cancellationToken);

    /// <summary>The first mail with <paramref name="subject"/> that <paramref name="matches"/>, waiting up to 15 s for it to arrive.</summary>
    public async Task<JsonElement> WaitForMailAsync(string subject, Func<JsonElement, bool> matches, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + MailTimeout;
        while (true)
        {
            var mails = await MailsAsync(cancellationToken);
            var match = mails.FirstOrDefault(mail => mail.GetProperty("subject").GetString() == subject && matches(mail));
            if (match.ValueKind == JsonValueKind.Object)
            {
                return match;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no mail with subject '{subject}' within {MailTimeout.TotalSeconds} s; received: "
                    + string.Join(", ", mails.Select(mail => $"'{mail.GetProperty("subject").GetString()}'")));
            }
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>The mail with this maildev ID as it arrived: headers and body, unparsed.</summary>
    public Task<string> SourceAsync(string id, CancellationToken cancellationToken = default) =>
        Api.GetStringAsync($"{ApiUrl}/api/email/{Uri.EscapeDataString(id)}/source", cancellationToken);

    private protected override async Task<IServerInstance> LaunchAsync(CancellationToken cancellationToken)
    {
        var maildev = tools.Maildev();
        var node = tools.Node();
        return await LocalServer.LaunchAsync("maildev", (directory, port, _) =>
        {
            webPort = FreePort.Next();
            return Task.FromResult(new LocalServerDefinition(
                new ProcessCommand(node,
                [
                    maildev, "--ip", Loopback.Address, "--smtp", $"{port}", "--web-ip", Loopback.Address, "--web", $"{webPort}",
                    "--incoming-user", User, "--incoming-pass", Password, "--mail-directory", Path.Combine(directory, "mail"), "--silent",
                ]) { Name = "maildev" },
                async ready => await Loopback.IsListeningAsync(port, ready) && await Loopback.IsListeningAsync(webPort, ready)));
        }, cancellationToken);
    }
}
