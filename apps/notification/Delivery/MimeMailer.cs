using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Ovasabi.Notification.Domain;

namespace Ovasabi.Notification.Delivery;

/// <summary>
/// Sends email to an <see cref="SmtpRelay"/> itself with MailKit, as full MIME: <c>multipart/alternative</c> with the
/// text and the HTML, a Message-ID from the message's id (a receiving server can drop a repeat), <c>Auto-Submitted</c>,
/// and for mail with an unsubscribe link <c>List-Unsubscribe</c> and <c>List-Unsubscribe-Post</c> (RFC 8058 one-click).
/// One connection per message: simple, and a relay that restarts costs nothing.
/// </summary>
public sealed class MimeMailer
{
    /// <summary>Hands <paramref name="message"/> to the relay.</summary>
    /// <exception cref="PermanentProviderException">the server refused with 5xx, or the address does not parse</exception>
    /// <exception cref="TransientProviderException">anything that may pass later: 4xx, a refused or dropped connection, a timeout</exception>
    public async Task SendAsync(SmtpRelay relay, LeasedMessage message, CancellationToken cancellationToken)
    {
        MimeMessage mime;
        try
        {
            mime = Build(relay, message);
        }
        catch (ParseException e)
        {
            throw new PermanentProviderException($"invalid address: {e.Message}", e);
        }
        using var client = new SmtpClient { Timeout = (int)relay.Timeout.TotalMilliseconds };
        if (relay.SkipTlsVerify)
        {
            // The operator's choice for a relay with a self-signed certificate (the chart's email.skipTLSVerify).
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        }
        try
        {
            await client.ConnectAsync(relay.Host, relay.Port, Security(relay), cancellationToken);
            if (relay.Username.Length > 0)
            {
                await client.AuthenticateAsync(relay.Username, relay.Password, cancellationToken);
            }
            await client.SendAsync(mime, cancellationToken);
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500)
        {
            throw new PermanentProviderException($"smtp {(int)e.StatusCode}: {e.Message}", e);
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or ServiceNotConnectedException or AuthenticationException
                                      or IOException or System.Net.Sockets.SocketException or TimeoutException or SslHandshakeException or NotSupportedException
                                  || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TransientProviderException($"smtp: {e.Message}", e);
        }
        try
        {
            await client.DisconnectAsync(quit: true, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or SmtpProtocolException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // The server took the message: a QUIT that fails changes nothing, and must not make it sent again.
        }
    }

    private static MimeMessage Build(SmtpRelay relay, LeasedMessage message)
    {
        var from = MailboxAddress.Parse(relay.From);
        var mime = new MimeMessage
        {
            Subject = message.Subject,
            MessageId = $"{message.Uuid}@{from.Domain}",
            Priority = message.Critical ? MessagePriority.Urgent : MessagePriority.Normal,
        };
        mime.From.Add(from);
        mime.To.Add(MailboxAddress.Parse(message.Address));
        mime.Headers.Add("Auto-Submitted", "auto-generated");
        mime.Headers.Add("X-Ovasabi-Message-Id", message.Uuid.ToString());
        var text = message.Text;
        if (message.UnsubscribeUrl is { } unsubscribe)
        {
            mime.Headers.Add("List-Unsubscribe", $"<{unsubscribe}>");
            mime.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            text += $"\n\n--\nUnsubscribe: {unsubscribe}";
        }
        mime.Body = new BodyBuilder { TextBody = text, HtmlBody = message.Html }.ToMessageBody();
        return mime;
    }

    private static SecureSocketOptions Security(SmtpRelay relay) => relay.Security switch
    {
        "starttls" => SecureSocketOptions.StartTls,
        "tls" => SecureSocketOptions.SslOnConnect,
        "none" => SecureSocketOptions.None,
        _ => SecureSocketOptions.Auto,
    };
}
