using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Ovasabi.Testing;

namespace Ovasabi.Bench.Notification;

/// <summary>
/// The SMTP server's own accept rate: <c>clients</c> connections of MailKit, each authenticated once and sending its
/// share of the messages one after another, the same HTML and subject the platform sent. No queue, no database, no
/// sidecar: what the server takes when nothing stands in front of it.
/// </summary>
internal static class SmtpDirect
{
    public static async Task<(int Sent, TimeSpan Elapsed, List<double> Milliseconds)> RunAsync(MaildevServer server, int clients, int messages, string subject, string html,
        CancellationToken cancellationToken)
    {
        var next = 0;
        var latencies = new List<double>();
        var gate = new Lock();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            using var client = new SmtpClient();
            await client.ConnectAsync(server.Host, server.Port, SecureSocketOptions.None, cancellationToken);
            await client.AuthenticateAsync(server.User, server.Password, cancellationToken);
            while (Interlocked.Increment(ref next) is var n && n <= messages)
            {
                var message = new MimeMessage { Subject = subject, Body = new TextPart("html") { Text = html } };
                message.From.Add(MailboxAddress.Parse("Ovasabi <no-reply@ovasabi.bench>"));
                message.To.Add(MailboxAddress.Parse($"direct-{n}@bench.example"));
                var started = Stopwatch.GetTimestamp();
                await client.SendAsync(message, cancellationToken);
                var took = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (gate)
                {
                    latencies.Add(took);
                }
            }
            await client.DisconnectAsync(true, cancellationToken);
        }, cancellationToken)));
        return (latencies.Count, clock.Elapsed, latencies);
    }
}
