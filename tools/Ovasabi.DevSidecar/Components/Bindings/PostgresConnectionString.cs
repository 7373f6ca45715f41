using System.Data.Common;
using System.Globalization;
using System.Text;
using Npgsql;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// Turns the connection strings daprd's pgx driver accepts (libpq <c>key=value</c> pairs or a
/// <c>postgres://</c> URL) into Npgsql settings. Npgsql's own <c>Key=Value;</c> form is accepted too: any
/// string with a semicolon is read that way, so a libpq value containing ';' must be single-quoted.
/// </summary>
internal static class PostgresConnectionString
{
    /// <summary>The settings, and whether the string chose its own connect and command timeouts (which then win).</summary>
    public sealed record Result(NpgsqlConnectionStringBuilder Builder, bool HasConnectTimeout, bool HasCommandTimeout);

    /// <exception cref="FormatException">the string cannot be read; the message never repeats it (it may hold a password)</exception>
    public static Result Parse(string connectionString)
    {
        var text = connectionString.Trim();
        if (text.StartsWith("postgres://", StringComparison.Ordinal) || text.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return FromSettings(ParseUrl(text));
        }
        return text.Contains(';') ? ParseNpgsql(text) : FromSettings(ParseKeywordValue(text));
    }

    private static Result ParseNpgsql(string text)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(text);
            var keys = new DbConnectionStringBuilder { ConnectionString = text }.Keys.Cast<string>()
                .Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant())
                .ToHashSet();
            return new(builder, keys.Contains("timeout"), keys.Contains("commandtimeout"));
        }
        catch (ArgumentException ex)
        {
            throw new FormatException($"not a valid Npgsql connection string ({ex.Message})", ex);
        }
    }

    /// <summary>libpq keyword/value syntax: whitespace-separated pairs, values optionally single-quoted, backslash escapes.</summary>
    private static List<KeyValuePair<string, string>> ParseKeywordValue(string text)
    {
        var settings = new List<KeyValuePair<string, string>>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            if (i == text.Length)
            {
                return settings;
            }
            var equals = text.IndexOf('=', i);
            if (equals < 0)
            {
                throw new FormatException("expected key=value pairs, a postgres:// URL or an Npgsql connection string");
            }
            var key = text[i..equals].Trim();
            if (key.Length == 0 || key.Any(char.IsWhiteSpace))
            {
                throw new FormatException("expected key=value pairs, a postgres:// URL or an Npgsql connection string");
            }
            i = equals + 1;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            var value = new StringBuilder();
            var quoted = i < text.Length && text[i] == '\'';
            if (quoted)
            {
                i++;
            }
            while (i < text.Length && (quoted ? text[i] != '\'' : !char.IsWhiteSpace(text[i])))
            {
                if (text[i] == '\\' && i + 1 < text.Length)
                {
                    i++;
                }
                value.Append(text[i++]);
            }
            if (quoted)
            {
                if (i == text.Length)
                {
                    throw new FormatException($"unterminated quoted value for '{key}'");
                }
                i++;
            }
            settings.Add(new(key, value.ToString()));
        }
    }

    /// <summary><c>postgres://user:password@host1:port1,host2/db?key=value</c>; every part is percent-decoded.</summary>
    private static List<KeyValuePair<string, string>> ParseUrl(string text)
    {
        var rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var fragment = rest.IndexOf('#');
        if (fragment >= 0)
        {
            rest = rest[..fragment];
        }
        var query = "";
        var q = rest.IndexOf('?');
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }
        var slash = rest.IndexOf('/');
        var authority = slash >= 0 ? rest[..slash] : rest;
        var database = slash >= 0 ? Uri.UnescapeDataString(rest[(slash + 1)..]) : "";
        var settings = new List<KeyValuePair<string, string>>();
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            settings.Add(new("user", Uri.UnescapeDataString(colon >= 0 ? userInfo[..colon] : userInfo)));
            if (colon >= 0)
            {
                settings.Add(new("password", Uri.UnescapeDataString(userInfo[(colon + 1)..])));
            }
        }
        if (authority.Length > 0)
        {
            var hosts = new List<string>();
            var ports = new List<string>();
            foreach (var entry in authority.Split(','))
            {
                // "[::1]:5432", "host:5432" or a bare host.
                var portSeparator = entry.LastIndexOf(':');
                var hasPort = portSeparator >= 0 && !entry[portSeparator..].Contains(']');
                hosts.Add(Uri.UnescapeDataString(hasPort ? entry[..portSeparator] : entry).Trim('[', ']'));
                ports.Add(hasPort ? entry[(portSeparator + 1)..] : "");
            }
            settings.Add(new("host", string.Join(',', hosts)));
            if (ports.Any(p => p.Length > 0))
            {
                settings.Add(new("port", string.Join(',', ports)));
            }
        }
        if (database.Length > 0)
        {
            settings.Add(new("dbname", database));
        }
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(equals >= 0 ? pair[..equals] : pair);
            settings.Add(new(key, equals >= 0 ? Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' ')) : ""));
        }
        return settings;
    }

    private static Result FromSettings(List<KeyValuePair<string, string>> settings)
    {
        var builder = new NpgsqlConnectionStringBuilder();
        var hosts = new List<string>();
        var ports = new List<string>();
        var runtimeParameters = new List<string>();
        foreach (var (key, value) in settings)
        {
            switch (key.ToLowerInvariant())
            {
                case "host":
                case "hostaddr":
                    hosts = [.. value.Split(',')];
                    break;
                case "port":
                    ports = [.. value.Split(',')];
                    break;
                case "dbname":
                case "database":
                    builder.Database = value;
                    break;
                case "user":
                    builder.Username = value;
                    break;
                case "password":
                    builder.Password = value;
                    break;
                case "sslmode":
                    builder.SslMode = value switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new FormatException($"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                    };
                    break;
                case "sslrootcert":
                    builder.RootCertificate = value;
                    break;
                case "sslcert":
                    builder.SslCertificate = value;
                    break;
                case "sslkey":
                    builder.SslKey = value;
                    break;
                case "sslpassword":
                    builder.SslPassword = value;
                    break;
                case "connect_timeout":
                    builder.Timeout = Integer(key, value);
                    break;
                case "application_name":
                    builder.ApplicationName = value;
                    break;
                case "search_path":
                    builder.SearchPath = value;
                    break;
                case "target_session_attrs":
                    builder.TargetSessionAttributes = value;
                    break;
                case "options":
                    runtimeParameters.Add(value);
                    break;
                case "pool_max_conns":
                    builder.MaxPoolSize = Integer(key, value);
                    break;
                case "pool_min_conns":
                    builder.MinPoolSize = Integer(key, value);
                    break;
                case "pool_max_conn_lifetime":
                    builder.ConnectionLifetime = Seconds(key, value);
                    break;
                case "pool_max_conn_idle_time":
                    builder.ConnectionIdleLifetime = Seconds(key, value);
                    break;
                case "pool_health_check_period":
                case "pool_max_conn_lifetime_jitter":
                case "default_query_exec_mode":
                case "statement_cache_capacity":
                case "description_cache_capacity":
                    // pgx client tuning with no Npgsql counterpart.
                    break;
                default:
                    // pgx sends any other key to the server as a run-time parameter (e.g. timezone, statement_timeout).
                    runtimeParameters.Add($"-c {key}={value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(" ", "\\ ", StringComparison.Ordinal)}");
                    break;
            }
        }
        if (hosts.Count == 0)
        {
            hosts.Add("localhost");
        }
        if (hosts.Count == 1 && ports.Count <= 1)
        {
            builder.Host = hosts[0];
            if (ports.Count == 1)
            {
                builder.Port = Integer("port", ports[0]);
            }
        }
        else
        {
            // Several hosts: Npgsql takes "host:port" entries, a single port applying to every host as in libpq.
            builder.Host = string.Join(',', hosts.Select((host, index) =>
            {
                var port = ports.Count == 0 ? "" : ports[Math.Min(index, ports.Count - 1)];
                return port.Length == 0 ? host : $"{(host.Contains(':') ? $"[{host}]" : host)}:{port}";
            }));
        }
        if (runtimeParameters.Count > 0)
        {
            builder.Options = string.Join(' ', runtimeParameters);
        }
        return new(builder, settings.Any(s => s.Key == "connect_timeout"), HasCommandTimeout: false);
    }

    private static int Integer(string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FormatException($"'{key}' must be an integer");

    private static int Seconds(string key, string value) =>
        GoDuration.TryParse(value, out var duration)
            ? (int)Math.Ceiling(duration.TotalSeconds)
            : throw new FormatException($"'{key}' must be a duration such as 30m");
}
