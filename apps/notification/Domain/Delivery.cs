using System.Text.RegularExpressions;

namespace Ovasabi.Notification.Domain;

/// <summary>What came of handing a message to its provider.</summary>
public enum SendOutcome { Accepted, Transient, Permanent }

/// <summary>When and whether a message is tried again.</summary>
public static partial class DeliveryRules
{
    public const int MaxReasonLength = 200;

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based): base, then doubling, at most <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(int attempt, TimeSpan @base, TimeSpan max)
    {
        var factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromTicks((long)Math.Min(max.Ticks, @base.Ticks * factor));
    }

    /// <summary>
    /// How daprd's <c>bindings.smtp</c> failed, read from its error text (it reports every failure as Internal): a 5xx
    /// answer of the server or an address it cannot parse will never succeed; a 4xx answer, a refused or dropped
    /// connection, a timeout or anything unknown may.
    /// </summary>
    public static SendOutcome ClassifySmtp(string error) =>
        PermanentSmtp().IsMatch(error) ? SendOutcome.Permanent : SendOutcome.Transient;

    /// <summary>
    /// How daprd's <c>bindings.http</c> failed (SMS, webhooks): a 4xx answer will not pass by repeating it, except 408
    /// (timeout) and 429 (too many requests); a 5xx answer, a refused connection or a timeout may.
    /// </summary>
    public static SendOutcome ClassifyHttp(string error) =>
        PermanentHttp().IsMatch(error) ? SendOutcome.Permanent : SendOutcome.Transient;

    /// <summary>A failure as the message's history keeps it: one line, at most <see cref="MaxReasonLength"/> characters.</summary>
    public static string Reason(string error)
    {
        var line = string.Join(' ', error.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= MaxReasonLength ? line : line[..(MaxReasonLength - 1)] + "…";
    }

    [GeneratedRegex(@"could not send email \d+: 5\d\d|gomail: invalid address", RegexOptions.CultureInvariant)]
    private static partial Regex PermanentSmtp();

    [GeneratedRegex(@"received status code 4(?!08|29)\d\d", RegexOptions.CultureInvariant)]
    private static partial Regex PermanentHttp();
}
