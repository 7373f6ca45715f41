using System.Globalization;
using System.Text;
using Npgsql;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Components;

/// <summary>
/// Turns daprd's PostgreSQL <c>connectionString</c> into Npgsql settings. daprd (pgx) takes a libpq keyword string
/// (<c>host=db user=app password='a b' dbname=state</c>) or a URL (<c>postgres://user:pw@db:5432/state?sslmode=disable</c>);
/// component files written for daprd use those, so both are translated. A string containing <c>;</c> is read as a
/// native Npgsql connection string. The metadata fields <c>host</c>, <c>hostaddr</c>, <c>port</c>, <c>database</c>,
/// <c>user</c>, <c>password</c> and <c>sslRootCert</c> override the string, as in daprd.
/// </summary>
internal static class PostgresConnectionString
{
    private const string Field = "connectionString";

    public static NpgsqlConnectionStringBuilder Parse(ComponentMetadata metadata)
    {
        var raw = metadata.Required(Field, "url").Trim();
        NpgsqlConnectionStringBuilder builder;
        if (raw.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || raw.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            builder = FromUrl(raw, metadata);
        }
        else if (raw.Contains(';', StringComparison.Ordinal))
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(raw);
            }
            catch (ArgumentException e)
            {
                // The message may quote the string, which can hold a password: name only the problem's kind.
                throw metadata.Error(Field, $"not a valid Npgsql connection string ({e.GetType().Name})");
            }
        }
        else
        {
            builder = new NpgsqlConnectionStringBuilder();
            foreach (var (key, value) in ParseKeywords(raw, metadata))
            {
                Apply(builder, key, value, metadata);
            }
        }

        foreach (var (field, keyword) in new[] { ("host", "host"), ("hostaddr", "hostaddr"), ("port", "port"), ("database", "dbname"), ("user", "user"), ("password", "password"), ("sslRootCert", "sslrootcert") })
        {
            if (metadata.Get(field) is { } value)
            {
                Apply(builder, keyword, value, metadata);
            }
        }
        if (string.IsNullOrEmpty(builder.Host))
        {
            throw metadata.Error(Field, "no host given");
        }
        return builder;
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string raw, ComponentMetadata metadata)
    {
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri))
        {
            throw metadata.Error(Field, "not a valid postgres:// URL");
        }
        var builder = new NpgsqlConnectionStringBuilder();
        if (uri.Host.Length > 0)
        {
            builder.Host = uri.DnsSafeHost;
        }
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }
        if (uri.UserInfo.Length > 0)
        {
            var separator = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(separator < 0 ? uri.UserInfo : uri.UserInfo[..separator]);
            if (separator >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(separator + 1)..]);
            }
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            Apply(builder, key, value, metadata);
        }
        return builder;
    }

    /// <summary>libpq keyword syntax: <c>key = value</c> pairs separated by spaces; values may be single-quoted with backslash escapes.</summary>
    private static IEnumerable<(string Key, string Value)> ParseKeywords(string raw, ComponentMetadata metadata)
    {
        var position = 0;
        while (true)
        {
            SkipSpaces(raw, ref position);
            if (position >= raw.Length)
            {
                yield break;
            }
            var start = position;
            while (position < raw.Length && raw[position] != '=' && !char.IsWhiteSpace(raw[position]))
            {
                position++;
            }
            var key = raw[start..position];
            SkipSpaces(raw, ref position);
            if (key.Length == 0 || position >= raw.Length || raw[position] != '=')
            {
                throw metadata.Error(Field, $"expected key=value at position {start}");
            }
            position++;
            SkipSpaces(raw, ref position);
            yield return (key, ReadValue(raw, ref position, metadata));
        }
    }

    private static string ReadValue(string raw, ref int position, ComponentMetadata metadata)
    {
        var value = new StringBuilder();
        var quoted = position < raw.Length && raw[position] == '\'';
        if (quoted)
        {
            position++;
        }
        while (position < raw.Length)
        {
            var c = raw[position];
            if (quoted ? c == '\'' : char.IsWhiteSpace(c))
            {
                break;
            }
            if (c == '\\' && position + 1 < raw.Length)
            {
                position++;
                c = raw[position];
            }
            value.Append(c);
            position++;
        }
        if (quoted)
        {
            if (position >= raw.Length)
            {
                throw metadata.Error(Field, "unterminated quoted value");
            }
            position++;
        }
        return value.ToString();
    }

    private static void SkipSpaces(string raw, ref int position)
    {
        while (position < raw.Length && char.IsWhiteSpace(raw[position]))
        {
            position++;
        }
    }

    private static void Apply(NpgsqlConnectionStringBuilder builder, string key, string value, ComponentMetadata metadata)
    {
        switch (key.ToLowerInvariant())
        {
            case "host" or "hostaddr":
                builder.Host = value;
                break;
            case "port":
                builder.Port = Number(key, value, metadata);
                break;
            case "dbname" or "database":
                builder.Database = value;
                break;
            case "user":
                builder.Username = value;
                break;
            case "password":
                builder.Password = value;
                break;
            case "sslmode":
                builder.SslMode = value.ToLowerInvariant() switch
                {
                    "disable" => SslMode.Disable,
                    "allow" => SslMode.Allow,
                    "prefer" => SslMode.Prefer,
                    "require" => SslMode.Require,
                    "verify-ca" => SslMode.VerifyCA,
                    "verify-full" => SslMode.VerifyFull,
                    _ => throw metadata.Error(Field, $"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
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
                builder.Timeout = Number(key, value, metadata);
                break;
            case "application_name":
                builder.ApplicationName = value;
                break;
            case "search_path":
                builder.SearchPath = value;
                break;
            case "timezone":
                builder.Timezone = value;
                break;
            case "options":
                builder.Options = value;
                break;
            case "target_session_attrs":
                builder.TargetSessionAttributes = value;
                break;
            case "pool_max_conns":
                builder.MaxPoolSize = Number(key, value, metadata);
                break;
            case "pool_min_conns":
                builder.MinPoolSize = Number(key, value, metadata);
                break;
            case "pool_max_conn_idle_time":
                builder.ConnectionIdleLifetime = Seconds(key, value, metadata);
                break;
            case "pool_max_conn_lifetime":
                builder.ConnectionLifetime = Seconds(key, value, metadata);
                break;
            default:
                throw metadata.Error(Field, $"connection parameter '{key}' is not supported by the dev sidecar");
        }
    }

    private static int Number(string key, string value, ComponentMetadata metadata) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw metadata.Error(Field, $"connection parameter '{key}': '{value}' is not a whole number");

    private static int Seconds(string key, string value, ComponentMetadata metadata) =>
        GoDuration.TryParse(value, out var duration) && duration >= TimeSpan.Zero
            ? (int)Math.Ceiling(duration.TotalSeconds)
            : throw metadata.Error(Field, $"connection parameter '{key}': '{value}' is not a duration");
}
