using System.Globalization;
using Cronos;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Jobs;

/// <summary>
/// A job's <c>schedule</c> as Dapr's scheduler reads it (dapr/kit's fork of robfig/cron): six fields with seconds first,
/// the <c>@yearly</c>…<c>@hourly</c> descriptors, <c>@every &lt;Go duration&gt;</c>, and an optional <c>TZ=</c> or
/// <c>CRON_TZ=</c> prefix; without one, UTC. Fields are checked with the Go parser's rules and wording, then evaluated
/// by Cronos, which keeps daylight-saving transitions right.
/// </summary>
public abstract class JobSchedule
{
    private static readonly Dictionary<string, string> Descriptors = new(StringComparer.Ordinal)
    {
        ["@yearly"] = "0 0 0 1 1 *",
        ["@annually"] = "0 0 0 1 1 *",
        ["@monthly"] = "0 0 0 1 * *",
        ["@weekly"] = "0 0 0 * * 0",
        ["@daily"] = "0 0 0 * * *",
        ["@midnight"] = "0 0 0 * * *",
        ["@hourly"] = "0 0 * * * *",
    };

    /// <summary>The first tick strictly after <paramref name="after"/>, or null when there is none.</summary>
    public abstract DateTimeOffset? Next(DateTimeOffset after);

    /// <exception cref="FormatException">with the Go parser's message</exception>
    public static JobSchedule Parse(string text)
    {
        var spec = text;
        var zone = TimeZoneInfo.Utc;
        var hasZone = false;
        foreach (var prefix in (string[])["TZ=", "CRON_TZ="])
        {
            if (!spec.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }
            var space = spec.IndexOf(' ', StringComparison.Ordinal);
            var name = space < 0 ? spec[prefix.Length..] : spec[prefix.Length..space];
            spec = space < 0 ? "" : spec[(space + 1)..].Trim();
            if (spec.Length == 0)
            {
                throw new FormatException($"a time zone prefix needs a schedule after it: {text}");
            }
            try
            {
                zone = TimeZoneInfo.FindSystemTimeZoneById(name);
            }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
            {
                throw new FormatException($"provided bad location {name}: unknown time zone {name}");
            }
            hasZone = true;
            break;
        }
        if (spec.StartsWith('@'))
        {
            if (spec.StartsWith("@every ", StringComparison.Ordinal))
            {
                if (hasZone)
                {
                    throw new FormatException($"a time zone prefix cannot be used with @every: {text}");
                }
                var duration = spec["@every ".Length..];
                if (!GoDuration.TryParse(duration, out var delay) || duration.Trim() != duration)
                {
                    throw new FormatException($"failed to parse duration {spec}: time: invalid duration \"{duration}\"");
                }
                if (delay < TimeSpan.Zero)
                {
                    throw new FormatException($"@every needs a duration of zero or more: {spec}");
                }
                return new Every(delay);
            }
            spec = Descriptors.TryGetValue(spec, out var expanded) ? expanded : throw new FormatException($"unrecognized descriptor: {spec}");
        }
        return Cron.Parse(spec, zone);
    }

    /// <summary><c>@every d</c>: each tick is the previous one plus d, sub-second delays included.</summary>
    private sealed class Every(TimeSpan delay) : JobSchedule
    {
        public override DateTimeOffset? Next(DateTimeOffset after) => after + delay;
    }

    private sealed class Cron(IReadOnlyList<CronExpression> expressions, TimeZoneInfo zone) : JobSchedule
    {
        private static readonly (int Min, int Max, string[]? Names)[] Fields =
        [
            (0, 59, null), (0, 59, null), (0, 23, null), (1, 31, null),
            (1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
            (0, 6, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
        ];

        public override DateTimeOffset? Next(DateTimeOffset after) =>
            expressions.Select(e => e.GetNextOccurrence(after, zone)).Where(t => t is not null).Min();

        public static Cron Parse(string spec, TimeZoneInfo zone)
        {
            var fields = spec.Split((char[])[' ', '\t', '\n', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 6)
            {
                throw new FormatException($"expected exactly 6 fields, found {fields.Length}: [{string.Join(' ', fields)}]");
            }
            var parsed = fields.Select((field, i) => ParseField(field, Fields[i])).ToArray();
            string List(int i, bool star) => star ? "*" : string.Join(',', parsed[i].Values);
            var (dom, dow) = (parsed[3], parsed[5]);
            // robfig/cron: when both day fields are restricted a day matches either; otherwise both (Cronos always ANDs).
            var dayAlternatives = dom.Star || dow.Star
                ? new[] { (Dom: List(3, dom.All), Dow: List(5, dow.All)) }
                : [(List(3, false), "*"), ("*", List(5, false))];
            var expressions = dayAlternatives
                .Select(days => $"{List(0, false)} {List(1, false)} {List(2, false)} {days.Dom} {List(4, false)} {days.Dow}")
                .Select(e => CronExpression.Parse(e, CronFormat.IncludeSeconds))
                .ToList();
            return new Cron(expressions, zone);
        }

        /// <summary>One field, as robfig/cron's getField: comma-separated ranges, each <c>*</c>, <c>?</c>, <c>a</c>, <c>a-b</c>, optionally <c>/step</c>.</summary>
        private static (SortedSet<int> Values, bool Star, bool All) ParseField(string field, (int Min, int Max, string[]? Names) range)
        {
            var values = new SortedSet<int>();
            var star = false;
            foreach (var expr in field.Split(','))
            {
                var rangeAndStep = expr.Split('/');
                var lowAndHigh = rangeAndStep[0].Split('-');
                int start, end;
                var partStar = false;
                if (lowAndHigh[0] is "*" or "?")
                {
                    (start, end, partStar) = (range.Min, range.Max, true);
                }
                else
                {
                    start = IntOrName(lowAndHigh[0], range.Names);
                    end = lowAndHigh.Length switch
                    {
                        1 => start,
                        2 => IntOrName(lowAndHigh[1], range.Names),
                        _ => throw new FormatException($"too many hyphens: {expr}"),
                    };
                }
                var step = 1;
                if (rangeAndStep.Length == 2)
                {
                    step = Int(rangeAndStep[1]);
                    if (lowAndHigh.Length == 1)
                    {
                        end = range.Max;
                    }
                    partStar &= step <= 1;
                }
                else if (rangeAndStep.Length > 2)
                {
                    throw new FormatException($"too many slashes: {expr}");
                }
                if (start < range.Min)
                {
                    throw new FormatException($"beginning of range ({start}) below minimum ({range.Min}): {expr}");
                }
                if (end > range.Max)
                {
                    throw new FormatException($"end of range ({end}) above maximum ({range.Max}): {expr}");
                }
                if (start > end)
                {
                    throw new FormatException($"beginning of range ({start}) beyond end of range ({end}): {expr}");
                }
                if (step == 0)
                {
                    throw new FormatException($"step of range should be a positive number: {expr}");
                }
                for (var v = start; v <= end; v += step)
                {
                    values.Add(v);
                }
                star |= partStar;
            }
            return (values, star, values.Count == range.Max - range.Min + 1);
        }

        private static int IntOrName(string text, string[]? names)
        {
            if (names is not null && Array.IndexOf(names, text.ToLowerInvariant()) is var index and >= 0)
            {
                return index + (names.Length == 12 ? 1 : 0);
            }
            return Int(text);
        }

        private static int Int(string text)
        {
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                throw new FormatException($"failed to parse int from {text}: strconv.Atoi: parsing \"{text}\": invalid syntax");
            }
            return number < 0 ? throw new FormatException($"negative number ({number}) not allowed: {text}") : number;
        }
    }
}
