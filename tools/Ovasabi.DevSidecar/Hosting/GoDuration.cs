using System.Globalization;
using System.Text.RegularExpressions;

namespace Ovasabi.DevSidecar.Hosting;

/// <summary>Parses Go's time.Duration syntax ("300ms", "1h2m3.5s", "-1s"), which Dapr resources use everywhere.</summary>
public static partial class GoDuration
{
    [GeneratedRegex(@"(?<n>\d+(?:\.\d*)?|\.\d+)(?<u>ns|us|µs|μs|ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var s = text.Trim();
        var negative = s.StartsWith('-');
        if (negative || s.StartsWith('+'))
        {
            s = s[1..];
        }
        if (s == "0")
        {
            return true;
        }
        var position = 0;
        double ticks = 0;
        foreach (Match match in Part().Matches(s))
        {
            if (match.Index != position)
            {
                return false;
            }
            position += match.Length;
            var number = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            ticks += number * match.Groups["u"].Value switch
            {
                "ns" => TimeSpan.TicksPerMicrosecond / 1000.0,
                "us" or "µs" or "μs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                _ => TimeSpan.TicksPerHour,
            };
        }
        if (position != s.Length || position == 0)
        {
            return false;
        }
        value = TimeSpan.FromTicks((long)Math.Round(negative ? -ticks : ticks));
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not a duration (e.g. 500ms, 15s, 1m)");

    /// <summary>Formats like Go's Duration.String() ("1.5s", "2m0s"), which daprd returns in binding metadata.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }
        var sign = duration < TimeSpan.Zero ? "-" : "";
        var d = duration.Duration();
        if (d < TimeSpan.FromSeconds(1))
        {
            var nanos = d.Ticks * 100;
            return nanos switch
            {
                < 1000 => $"{sign}{nanos}ns",
                < 1_000_000 => $"{sign}{Trim(nanos / 1000.0)}µs",
                _ => $"{sign}{Trim(nanos / 1_000_000.0)}ms",
            };
        }
        var hours = (long)d.TotalHours;
        var minutes = d.Minutes;
        var seconds = d.TotalSeconds - (hours * 3600) - (minutes * 60);
        var text = Trim(seconds) + "s";
        if (hours > 0)
        {
            return $"{sign}{hours}h{minutes}m{text}";
        }
        return minutes > 0 ? $"{sign}{minutes}m{text}" : sign + text;
    }

    private static string Trim(double value) => value.ToString("0.#########", CultureInfo.InvariantCulture);
}
