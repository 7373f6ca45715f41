using System.Text.Json;

namespace Ovasabi.Demo;

/// <summary>The SMTP server's web inbox (maildev's REST API, <c>GET /api/email</c>): what the platform's email binding delivered.</summary>
internal sealed class MailInbox(Uri api)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Waits until a mail with each (recipient, subject) arrived; returns how many mails the inbox holds then.</summary>
    public async Task<int> WaitForAsync(IReadOnlyList<(string To, string Subject)> wanted, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var document = JsonDocument.Parse(await Http.GetStringAsync(new Uri(api, "/api/email"), cancellationToken));
            var mails = document.RootElement.EnumerateArray()
                .Select(m => (To: m.GetProperty("to").EnumerateArray().Select(t => t.GetProperty("address").GetString()).ToList(), Subject: m.GetProperty("subject").GetString()))
                .ToList();
            var missing = wanted.Where(w => !mails.Any(m => m.Subject == w.Subject && m.To.Contains(w.To))).ToList();
            if (missing.Count == 0)
            {
                return mails.Count;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new DemoCheckException($"no mail \"{missing[0].Subject}\" to {missing[0].To} within {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(200, cancellationToken);
        }
    }
}
