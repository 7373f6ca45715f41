using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using MimeKit.Text;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// <c>bindings.smtp</c>: <c>create</c> sends the request's data as one HTML mail, built and sent the way daprd's
/// gomail does: From/To/Cc/Bcc from component metadata unless the request overrides them, addresses split on ';',
/// an <c>X-priority</c> header, implicit TLS on port 465 and STARTTLS elsewhere when the server offers it.
/// </summary>
internal sealed class SmtpBinding : IOutputBinding
{
    public const string Create = "create";

    private const int DefaultPriority = 3;
    private const char AddressSeparator = ';';
    private const string FailurePrefix = "error from smtp binding, sending email failed: ";
    private const string SendFailurePrefix = FailurePrefix + "gomail: could not send email 1: ";
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    // Hosts Go's PLAIN authentication trusts without TLS.
    private static readonly HashSet<string> LocalHosts = new(["localhost", "127.0.0.1", "::1"], StringComparer.Ordinal);

    // Go's address parser wants a complete mailbox: a domain, nothing obsolete.
    private static readonly ParserOptions StrictAddresses = new()
    {
        AddressParserComplianceMode = RfcComplianceMode.Strict,
        AllowAddressesWithoutDomain = false,
    };

    private readonly string _host;
    private readonly int _port;
    private readonly string _user;
    private readonly string _password;
    private readonly bool _skipTlsVerify;
    private readonly Fields _defaults;

    public SmtpBinding(ComponentDefinition definition, ComponentContext context)
    {
        var metadata = definition.Metadata;
        var logger = context.LoggerFactory.CreateLogger<SmtpBinding>();
        // daprd decodes the integer fields first, then checks what is required, then reads priority once more.
        var port = DecodeInt(metadata, "port");
        DecodeInt(metadata, "priority");
        _host = metadata.Get("host") ?? "";
        if (_host.Length == 0 || port == 0)
        {
            throw metadata.Error(_host.Length == 0 ? "host" : "port", "smtp binding error: host and port fields are required in metadata");
        }
        _port = (int)port;
        _user = metadata.Get("user") ?? "";
        _password = metadata.Get("password") ?? "";
        if ((_user.Length == 0) != (_password.Length == 0))
        {
            throw metadata.Error(_user.Length == 0 ? "user" : "password", "smtp binding error: both user and password fields are required in metadata");
        }
        if (_user.Length == 0)
        {
            logger.LogWarning("smtp binding {Name}: user and password are empty", definition.Name);
        }
        _skipTlsVerify = GoCompat.IsTruthy(metadata.Get("skipTLSVerify") ?? "");
        if (_skipTlsVerify)
        {
            logger.LogWarning("smtp binding {Name}: TLS certificate verification is off (skipTLSVerify)", definition.Name);
        }
        var priority = DefaultPriority;
        // Only the lower-case key counts here (daprd reads the raw property map); "Priority" leaves the default.
        if (metadata.Exact("priority") is { Length: > 0 } configured)
        {
            var (value, error) = ParsePriority(configured);
            priority = error is null ? value : throw metadata.Error("priority", error);
        }
        _defaults = new Fields(
            metadata.Get("emailFrom") ?? "", metadata.Get("emailTo") ?? "", metadata.Get("emailCC") ?? "",
            metadata.Get("emailBCC") ?? "", metadata.Get("subject") ?? "", priority);
    }

    public IReadOnlyList<string> Operations { get; } = [Create];

    /// <summary>daprd only reads the metadata at start; the server is first contacted by a send.</summary>
    public Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Sends the mail. daprd ignores the caller's cancellation once it sends, so a cancelled call stops waiting
    /// here while the send goes on.
    /// </summary>
    public Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var fields = Merge(request.Metadata);
        if (fields.From.Length == 0)
        {
            throw Missing("emailFrom");
        }
        if (fields.To.Length == 0)
        {
            throw Missing("emailTo");
        }
        if (fields.Subject.Length == 0)
        {
            throw Missing("subject");
        }
        var body = GoCompat.TryUnquote(request.Data, out var unquoted) ? unquoted : request.Data;
        return SendAsync(fields, Encoding.UTF8.GetString(body)).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The component's fields with the request's non-empty ones instead, for this request only: daprd writes them
    /// into the component's own settings, so they stick to later calls, a bug not copied (see the README).
    /// </summary>
    private Fields Merge(IReadOnlyDictionary<string, string> metadata)
    {
        string Pick(string key, string fallback) => metadata.TryGetValue(key, out var value) && value.Length > 0 ? value : fallback;
        var priority = _defaults.Priority;
        if (metadata.TryGetValue("priority", out var requested) && requested.Length > 0)
        {
            var (value, error) = ParsePriority(requested);
            priority = error is null ? value : throw new BindingException(error);
        }
        return new Fields(
            Pick("emailFrom", _defaults.From), Pick("emailTo", _defaults.To), Pick("emailCC", _defaults.Cc),
            Pick("emailBCC", _defaults.Bcc), Pick("subject", _defaults.Subject), priority);
    }

    private async Task<BindingResponse> SendAsync(Fields fields, string body)
    {
        using var client = new SmtpClient
        {
            LocalDomain = "localhost",
            CheckCertificateRevocation = false,
            // After dialling, gomail waits for the server as long as it takes.
            Timeout = Timeout.Infinite,
        };
        if (_skipTlsVerify)
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        }
        var socket = await DialAsync();
        try
        {
            await client.ConnectAsync(socket, _host, _port, _port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTlsWhenAvailable);
            await AuthenticateAsync(client);
        }
        catch (Exception e) when (e is not BindingException)
        {
            socket.Dispose();
            throw new BindingException(FailurePrefix + SessionError(e), e);
        }
        // gomail checks the addresses only once the session is up, so a server that is down is reported first.
        var (message, sender, recipients) = Build(fields, body);
        try
        {
            await client.SendAsync(message, sender, recipients);
        }
        catch (Exception e)
        {
            throw new BindingException(SendFailurePrefix + SessionError(e), e);
        }
        try
        {
            await client.DisconnectAsync(quit: true);
        }
        catch (Exception e) when (e is IOException or SocketException or ProtocolException or CommandException)
        {
            // The mail is accepted; gomail ignores a failing QUIT as well.
        }
        return BindingResponse.Empty();
    }

    /// <summary>gomail's dial: a TCP connection within 10 s, its failure (the first address's) in Go's words.</summary>
    private async Task<Socket> DialAsync()
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(_host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(_host);
        }
        catch (SocketException)
        {
            addresses = [];
        }
        using var timeout = new CancellationTokenSource(DialTimeout);
        string? failure = null;
        foreach (var address in addresses)
        {
            var endpoint = new IPEndPoint(address, _port);
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endpoint, timeout.Token);
                return socket;
            }
            catch (OperationCanceledException)
            {
                socket.Dispose();
                throw new BindingException(FailurePrefix + $"dial tcp {endpoint}: i/o timeout");
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failure ??= $"dial tcp {endpoint}: " + (e.SocketErrorCode == SocketError.ConnectionRefused ? "connect: connection refused" : e.Message);
            }
        }
        throw new BindingException(FailurePrefix + (failure ?? $"dial tcp: lookup {_host}: no such host"));
    }

    /// <summary>
    /// gomail's choice: authenticate only with a user and when the server offers AUTH; CRAM-MD5 if offered, LOGIN
    /// if offered without PLAIN, else PLAIN, which Go refuses over plain text unless the host is local.
    /// </summary>
    private async Task AuthenticateAsync(SmtpClient client)
    {
        if (_user.Length == 0 || !client.Capabilities.HasFlag(SmtpCapabilities.Authentication))
        {
            return;
        }
        var credentials = new NetworkCredential(_user, _password);
        var offered = client.AuthenticationMechanisms;
        SaslMechanism mechanism = offered.Contains("CRAM-MD5") ? new SaslMechanismCramMd5(credentials)
            : offered.Contains("LOGIN") && !offered.Contains("PLAIN") ? new SaslMechanismLogin(credentials)
            : new SaslMechanismPlain(credentials);
        if (mechanism is SaslMechanismPlain && !client.IsSecure && !LocalHosts.Contains(_host))
        {
            throw new BindingException(FailurePrefix + "unencrypted connection");
        }
        await client.AuthenticateAsync(mechanism);
    }

    /// <summary>
    /// The message as gomail writes it: From, To, Cc, Subject, X-priority, Date and MIME-Version headers (no Bcc, no
    /// Message-Id) over one quoted-printable text/html part; the envelope recipients are To, Cc and Bcc, each once.
    /// </summary>
    private static (MimeMessage Message, MailboxAddress Sender, List<MailboxAddress> Recipients) Build(Fields fields, string body)
    {
        var sender = Address(fields.From);
        var to = Addresses(fields.To);
        var cc = fields.Cc.Length > 0 ? Addresses(fields.Cc) : [];
        var bcc = fields.Bcc.Length > 0 ? Addresses(fields.Bcc) : [];

        var part = new TextPart(TextFormat.Html) { ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        part.SetText(Encoding.UTF8, body);
        part.ContentType.Charset = "UTF-8";
        var message = new MimeMessage { Subject = fields.Subject, Date = DateTimeOffset.Now, Body = part };
        message.Headers.Remove(HeaderId.MessageId);
        message.From.Add(sender);
        message.To.AddRange(to);
        message.Cc.AddRange(cc);
        message.Headers.Add("X-priority", fields.Priority.ToString(CultureInfo.InvariantCulture));

        var recipients = new List<MailboxAddress>();
        foreach (var recipient in to.Concat(cc).Concat(bcc))
        {
            if (!recipients.Exists(r => r.Address == recipient.Address))
            {
                recipients.Add(recipient);
            }
        }
        return (message, sender, recipients);
    }

    private static List<MailboxAddress> Addresses(string list) => [.. list.Split(AddressSeparator).Select(Address)];

    /// <summary>One address as Go's mail.ParseAddress takes it: exactly one mailbox with a domain.</summary>
    private static MailboxAddress Address(string text)
    {
        string? reason = null;
        MailboxAddress? mailbox = null;
        if (text.Trim().Length == 0)
        {
            reason = "no address";
        }
        else if (!InternetAddressList.TryParse(StrictAddresses, text, out var parsed))
        {
            reason = text.Contains('@', StringComparison.Ordinal) ? "invalid address" : "missing @ in addr-spec";
        }
        else if (parsed.Count != 1 || parsed[0] is not MailboxAddress single)
        {
            reason = "expected single address";
        }
        else if (!single.Address.Contains('@', StringComparison.Ordinal))
        {
            reason = "missing @ in addr-spec";
        }
        else
        {
            mailbox = single;
        }
        return mailbox ?? throw new BindingException(SendFailurePrefix + $"gomail: invalid address {GoCompat.Quote(text)}: mail: {reason}");
    }

    /// <summary>A session failure as Go's net/smtp reports it: the server's reply as "code text", else the cause.</summary>
    private static string SessionError(Exception error) => error switch
    {
        SmtpCommandException command => $"{(int)command.StatusCode:D3} {command.Message}",
        // MailKit words a refused AUTH "535: text"; Go's reply error is "535 text".
        AuthenticationException when error.Message.Length > 5 && char.IsAsciiDigit(error.Message[0]) && error.Message[3..5] == ": " =>
            error.Message[..3] + " " + error.Message[5..],
        // MailKit's name for the server's 530 reply.
        ServiceNotAuthenticatedException => $"{(int)SmtpStatusCode.AuthenticationRequired} {error.Message}",
        SslHandshakeException { InnerException: { } inner } => inner.Message,
        _ => error.Message,
    };

    /// <summary>The integer fields as daprd's weakly typed decoder reads them (any Go base; empty is 0).</summary>
    private static long DecodeInt(ComponentMetadata metadata, string field)
    {
        var raw = metadata.Get(field);
        if (raw is null)
        {
            return 0;
        }
        return GoCompat.TryParseIntAnyBase(raw, out var value, out var error)
            ? value
            : throw metadata.Error(field, $"cannot parse '{field}' as int: {error}");
    }

    private static (int Value, string? Error) ParsePriority(string text)
    {
        if (!GoCompat.TryAtoi(text, out var value, out var error))
        {
            return (0, error);
        }
        return value is < 1 or > 5
            ? (0, "smtp binding error:  priority value must be between 1 (highest) and 5 (lowest)")
            : ((int)value, null);
    }

    private static BindingException Missing(string field) =>
        new($"smtp binding error: {field} property not supplied in configuration- or request-metadata");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed record Fields(string From, string To, string Cc, string Bcc, string Subject, int Priority);
}
