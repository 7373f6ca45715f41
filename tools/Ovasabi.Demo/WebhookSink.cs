using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ovasabi.Demo;

/// <summary>
/// The HTTP server behind the webhook binding (<c>GET /messages</c>: path, headers, raw body of each request) and the
/// receiver's side of a delivery: its Standard Webhooks signature checked with the endpoint's secret.
/// </summary>
internal sealed class WebhookSink(Uri server)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Waits for a request whose path ends with <paramref name="path"/> and whose JSON has <c>type</c> <paramref name="type"/>; returns its webhook-id once its signature verifies.</summary>
    public async Task<string> WaitForSignedAsync(string path, string type, string secret, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var document = JsonDocument.Parse(await Http.GetStringAsync(new Uri(server, "/messages"), cancellationToken));
            foreach (var request in document.RootElement.EnumerateArray())
            {
                if (!request.TryGetProperty("raw", out var body) || body.GetString() is not { } raw
                    || !request.GetProperty("path").GetString()!.EndsWith(path, StringComparison.Ordinal) || !raw.Contains($"\"type\":\"{type}\"", StringComparison.Ordinal))
                {
                    continue;
                }
                var headers = request.GetProperty("headers").EnumerateObject().ToDictionary(h => h.Name, h => h.Value.GetString() ?? "", StringComparer.OrdinalIgnoreCase);
                var id = headers.GetValueOrDefault("webhook-id", "");
                var key = Convert.FromBase64String(secret["whsec_".Length..]);
                var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{headers.GetValueOrDefault("webhook-timestamp")}.{raw}")));
                return headers.GetValueOrDefault("webhook-signature", "").Split(' ').Contains(expected)
                    ? id
                    : throw new DemoCheckException($"webhook {id} does not verify with the endpoint's secret");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new DemoCheckException($"no {type} webhook at {path} within {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(200, cancellationToken);
        }
    }
}
