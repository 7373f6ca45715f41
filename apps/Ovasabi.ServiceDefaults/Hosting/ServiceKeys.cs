using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Ovasabi.ServiceDefaults.Hosting;

/// <summary>
/// A service's secret keys (page tokens, unsubscribe links, address hashes): the setting's value (base64, at least
/// <see cref="MinBytes"/> bytes), else derived from the database connection string and the key's purpose, so every
/// replica derives the same key and a deployment without the setting still works (set it to rotate a key without
/// touching the database password).
/// </summary>
public static class ServiceKeys
{
    public const int MinBytes = 32;

    /// <param name="setting">e.g. <c>Notification:UnsubscribeKey</c></param>
    /// <param name="purpose">keeps derived keys apart, e.g. <c>ovasabi.notification.unsubscribe-key</c></param>
    /// <exception cref="InvalidOperationException">the setting is shorter than <see cref="MinBytes"/></exception>
    public static byte[] From(IConfiguration configuration, string setting, string purpose)
    {
        if (configuration[setting] is not { Length: > 0 } configured)
        {
            return SHA256.HashData(Encoding.UTF8.GetBytes($"{purpose}:" + configuration.GetConnectionString("Database")));
        }
        var key = Convert.FromBase64String(configured);
        return key.Length >= MinBytes ? key : throw new InvalidOperationException($"{setting}: must be at least {MinBytes} bytes, base64");
    }
}
