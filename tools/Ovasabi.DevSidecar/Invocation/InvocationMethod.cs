using System.Text;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>
/// Service invocation method names as daprd (1.18+) treats them: an HTTP caller's method is percent-decoded, then
/// normalized once (forbidden characters refused, dot segments and duplicate slashes resolved as Go's path.Clean does),
/// and that one form is what access control checks and what the app receives. (RT:pkg/messaging/method/normalize.go,
/// RT:pkg/api/http/directmessaging.go, RT:pkg/channel/http/http_channel.go)
/// </summary>
public static class InvocationMethod
{
    /// <summary>The method of an HTTP request path (still percent-encoded), decoded as Go's net/http decodes URL paths.</summary>
    public static string Decode(string rawMethod) => Uri.UnescapeDataString(rawMethod);

    /// <summary>daprd's NormalizeMethod; null with <paramref name="error"/> set when the method is refused.</summary>
    public static string? Normalize(string method, out string? error)
    {
        error = null;
        for (var i = 0; i < method.Length; i++)
        {
            var c = method[i];
            if (c is '#' or '?' or '\0')
            {
                error = $"method contains forbidden character: \"{method}\"";
                return null;
            }
            if (c < 0x20 || c == 0x7f)
            {
                error = $"method contains control character at position {i}: \"{method}\"";
                return null;
            }
        }
        var cleaned = Clean(method);
        while (cleaned.StartsWith("../", StringComparison.Ordinal))
        {
            cleaned = cleaned[3..];
        }
        return cleaned is ".." or "." ? "" : cleaned;
    }

    /// <summary>Go's path.Clean: one slash between segments, no <c>.</c>, <c>..</c> resolved, no trailing slash.</summary>
    private static string Clean(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }
        var rooted = path[0] == '/';
        var segments = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (segments.Count > 0 && segments[^1] != "..")
                {
                    segments.RemoveAt(segments.Count - 1);
                }
                else if (!rooted)
                {
                    segments.Add("..");
                }
                continue;
            }
            segments.Add(segment);
        }
        var joined = string.Join('/', segments);
        return rooted ? "/" + joined : joined.Length == 0 ? "." : joined;
    }

    /// <summary>A normalized method as the path of a URL between sidecars: every segment percent-encoded, so nothing reinterprets it.</summary>
    public static string ToSidecarPath(string method) => string.Join('/', method.Split('/').Select(Uri.EscapeDataString));

    /// <summary>
    /// A normalized method as the path daprd requests from an HTTP app: Go's URL.EscapedPath of <c>/method</c>, i.e. the
    /// text unchanged when every byte may stand in a path as it is, else escaped byte by byte (a literal <c>%</c> is
    /// always escaped: daprd would reparse it as an escape).
    /// </summary>
    public static string ToAppPath(string method)
    {
        var path = method.StartsWith('/') ? method : "/" + method;
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.All(b => IsUnreserved(b) || "!$&'()*+,;=:@[]/".Contains((char)b)))
        {
            return path;
        }
        var escaped = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (IsUnreserved(b) || "$&+,/:;=@".Contains((char)b))
            {
                escaped.Append((char)b);
            }
            else
            {
                escaped.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return escaped.ToString();
    }

    private static bool IsUnreserved(byte b) => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
        or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~';

    /// <summary>A URI whose path and query are sent exactly as given (System.Uri would otherwise unescape parts of the query).</summary>
    public static Uri ExactUri(string uri) => new(uri, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
}
