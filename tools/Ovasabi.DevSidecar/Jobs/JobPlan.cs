using System.Globalization;
using System.Text.RegularExpressions;
using Dapr.Client.Autogen.Grpc.v1;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Jobs;

/// <summary>
/// When a job fires, resolved at the moment it is scheduled as Dapr's scheduler does: the first tick, the expiry
/// (<c>ttl</c>) and the repeat bound. Relative <c>due_time</c> counts from now; a relative <c>ttl</c> counts from the
/// due time when there is one, else from now.
/// </summary>
public sealed partial record JobPlan(DateTimeOffset FirstTick, DateTimeOffset? Expiry)
{
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    [GeneratedRegex(@"^(?:R(?<r>\d*)/)?P(?:(?<y>\d+)Y)?(?:(?<mo>\d+)M)?(?:(?<w>\d+)W)?(?:(?<d>\d+)D)?(?:T(?:(?<h>\d+)H)?(?:(?<mi>\d+)M)?(?:(?<s>\d+(?:\.\d+)?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Iso8601Duration();

    /// <summary>Checks a job in the scheduler's order and wording.</summary>
    /// <exception cref="FormatException">the scheduler's validation message, without its prefix</exception>
    public static JobPlan For(Job job, DateTimeOffset now)
    {
        if (!job.HasSchedule && !job.HasDueTime)
        {
            throw new FormatException("job must have either a due time or a schedule");
        }
        if (!job.HasSchedule && job.HasRepeats && job.Repeats > 1)
        {
            throw new FormatException("job must have a schedule to repeat");
        }
        if (job.HasRepeats && job.Repeats < 1)
        {
            throw new FormatException("defined repeats must be greater than 0");
        }
        if (!job.HasSchedule && job.HasTtl)
        {
            throw new FormatException("job must have a schedule to have a ttl");
        }
        var schedule = job.HasSchedule ? JobSchedule.Parse(job.Schedule) : null;
        DateTimeOffset? due = null;
        if (job.HasDueTime)
        {
            due = PointInTime(job.DueTime, now, out var repeating) ?? throw new FormatException("due time format not recognized");
            if (repeating)
            {
                throw new FormatException("repeats not supported for due time");
            }
        }
        DateTimeOffset? expiry = null;
        if (job.HasTtl)
        {
            expiry = PointInTime(job.Ttl, due ?? now, out var repeating);
            if (expiry is null || repeating)
            {
                throw new FormatException("ttl format not recognized");
            }
            if (due > expiry)
            {
                throw new FormatException("ttl must be greater than due time");
            }
        }
        // A schedule alone never fires at creation: its first tick is strictly later.
        var first = due ?? schedule!.Next(now) ?? DateTimeOffset.MaxValue;
        return new JobPlan(first, expiry);
    }

    /// <summary>
    /// The tick after <paramref name="tick"/> (each from the previous scheduled tick, so missed ticks are caught up), or
    /// null when the job is finished: no schedule, <c>repeats</c> reached, or past the ttl.
    /// </summary>
    public static DateTimeOffset? NextTick(Job job, DateTimeOffset tick, DateTimeOffset? expiry, long ticksDone)
    {
        if (!job.HasSchedule || (job.HasRepeats && ticksDone >= job.Repeats))
        {
            return null;
        }
        var next = JobSchedule.Parse(job.Schedule).Next(tick);
        return next is null || next > expiry ? null : next;
    }

    /// <summary>RFC 3339, else a Go duration, else an ISO 8601 duration (both from <paramref name="from"/>); null when none fits.</summary>
    private static DateTimeOffset? PointInTime(string text, DateTimeOffset from, out bool repeating)
    {
        repeating = false;
        if (Rfc3339().IsMatch(text))
        {
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant) ? instant.ToUniversalTime() : null;
        }
        if (GoDuration.TryParse(text, out var duration) && text.Trim() == text)
        {
            return from + duration;
        }
        var iso = Iso8601Duration().Match(text);
        // "P", "PT" and "P1DT" name no amount.
        if (!iso.Success || text.EndsWith('P') || text.EndsWith('T'))
        {
            return null;
        }
        repeating = iso.Groups["r"].Success && iso.Groups["r"].Value != "0";
        int Whole(string group) => iso.Groups[group].Success ? int.Parse(iso.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        var seconds = iso.Groups["s"].Success ? double.Parse(iso.Groups["s"].Value, CultureInfo.InvariantCulture) : 0;
        return from.AddYears(Whole("y")).AddMonths(Whole("mo")).AddDays(Whole("w") * 7 + Whole("d"))
            .AddHours(Whole("h")).AddMinutes(Whole("mi")).AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
    }
}
