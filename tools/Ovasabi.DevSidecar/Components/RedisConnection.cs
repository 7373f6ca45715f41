using System.Globalization;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Ovasabi.DevSidecar.Components;

/// <summary>
/// The connection metadata every Redis component of daprd shares (<c>redisHost</c>, <c>redisUsername</c>,
/// <c>redisPassword</c>, <c>redisDB</c>, <c>enableTLS</c>, <c>dialTimeout</c>), validated once for state and pub/sub.
/// </summary>
public sealed partial record RedisConnection
{
    private const int DefaultPort = 6379;

    public required IReadOnlyList<(string Host, int Port)> Hosts { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public int Database { get; init; }

    public bool EnableTls { get; init; }

    public TimeSpan DialTimeout { get; init; }

    public static RedisConnection Parse(ComponentMetadata metadata)
    {
        if (metadata.Bool("failover", false))
        {
            throw metadata.Error("failover", "Redis Sentinel is not supported by the dev sidecar; point redisHost at the master");
        }
        var connection = new RedisConnection
        {
            Hosts = ParseHosts(metadata),
            Username = metadata.Get("redisUsername"),
            Password = metadata.Get("redisPassword"),
            Database = metadata.Int("redisDB", 0),
            EnableTls = metadata.Bool("enableTLS", false),
            // daprd reads a plain number here as milliseconds.
            DialTimeout = metadata.Duration("dialTimeout", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(1)),
        };
        return connection.Database >= 0 ? connection : throw metadata.Error("redisDB", "must not be negative");
    }

    /// <summary>
    /// Options for one multiplexer. <paramref name="abortOnConnectFail"/> makes the first connect fail when Redis is
    /// unreachable (component init must, as in daprd); later drops reconnect on their own either way.
    /// </summary>
    public ConfigurationOptions ToOptions(bool abortOnConnectFail, TimeSpan? commandTimeout = null, RedisProtocol? protocol = null)
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = abortOnConnectFail,
            User = Username,
            Password = Password,
            DefaultDatabase = Database,
            Ssl = EnableTls,
            ConnectTimeout = (int)DialTimeout.TotalMilliseconds,
            Protocol = protocol,
        };
        if (commandTimeout is { } timeout)
        {
            options.AsyncTimeout = options.SyncTimeout = (int)timeout.TotalMilliseconds;
        }
        foreach (var (host, port) in Hosts)
        {
            options.EndPoints.Add(host, port);
        }
        if (EnableTls)
        {
            // daprd's enableTLS turns on TLS without verifying the server certificate; the same component files
            // must work here, e.g. against a dev Redis with a self-signed certificate.
            options.CertificateValidation += (_, _, _, _) => true;
        }
        return options;
    }

    public override string ToString() => string.Join(",", Hosts.Select(h => $"{h.Host}:{h.Port}"));

    [GeneratedRegex(@"^(?:\[(?<host>[^\]]+)\]|(?<host>[^:\[\]]+))(?::(?<port>\d+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex HostPort();

    /// <summary>Several comma-separated hosts name the nodes of a cluster, as in daprd.</summary>
    private static List<(string Host, int Port)> ParseHosts(ComponentMetadata metadata)
    {
        var raw = metadata.Required("redisHost");
        var hosts = new List<(string, int)>();
        foreach (var item in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = HostPort().Match(item);
            if (!match.Success)
            {
                throw metadata.Error("redisHost", $"'{item}' is not host:port");
            }
            var port = DefaultPort;
            if (match.Groups["port"].Success
                && (!int.TryParse(match.Groups["port"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            {
                throw metadata.Error("redisHost", $"'{item}' has an invalid port");
            }
            hosts.Add((match.Groups["host"].Value, port));
        }
        return hosts.Count > 0 ? hosts : throw metadata.Error("redisHost", "no host given");
    }
}
