using Dapr.Client.Autogen.Grpc.v1;
using Ovasabi.DevSidecar.Jobs;

namespace Ovasabi.DevSidecar.Tests.Jobs;

/// <summary>The scheduler's schedule, due-time and ttl rules, evaluated in-process at fixed instants.</summary>
public sealed class JobScheduleTests
{
    // A Thursday.
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 5, 0, 0, TimeSpan.Zero);

    private static List<DateTimeOffset> Ticks(string schedule, int count, DateTimeOffset? from = null)
    {
        var parsed = JobSchedule.Parse(schedule);
        var ticks = new List<DateTimeOffset>();
        var at = from ?? Start;
        while (ticks.Count < count && parsed.Next(at) is { } next)
        {
            ticks.Add(next);
            at = next;
        }
        return ticks;
    }

    private static DateTimeOffset Utc(int month, int day, int hour = 0, int minute = 0, int second = 0) => new(2026, month, day, hour, minute, second, TimeSpan.Zero);

    [Fact]
    public void Restricted_day_of_month_and_day_of_week_match_either_as_in_robfig_cron()
    {
        // The 1st and 15th, plus every Friday.
        Assert.Equal([Utc(1, 2, 4, 30), Utc(1, 9, 4, 30), Utc(1, 15, 4, 30), Utc(1, 16, 4, 30), Utc(1, 23, 4, 30), Utc(1, 30, 4, 30), Utc(2, 1, 4, 30)],
            Ticks("0 30 4 1,15 * 5", 7));
    }

    [Fact]
    public void A_day_field_that_starts_with_a_star_or_question_mark_leaves_the_other_to_choose()
    {
        Assert.Equal([Utc(1, 5), Utc(1, 12)], Ticks("0 0 0 ? * mon", 2));
        Assert.Equal([Utc(1, 2), Utc(1, 9)], Ticks("0 0 0 * * FRI", 2));
    }

    [Fact]
    public void A_step_on_a_star_makes_the_field_restricted_so_the_days_combine_with_or()
    {
        // robfig/cron clears the star bit for */n with n > 1: the odd days or Mondays.
        Assert.Equal([Utc(1, 3), Utc(1, 5), Utc(1, 7)], Ticks("0 0 0 */2 * 1", 3, Utc(1, 1, 12)));
    }

    [Fact]
    public void Seconds_come_first_and_ranges_steps_lists_and_names_parse()
    {
        Assert.Equal([Utc(1, 1, 5, 0, 10), Utc(1, 1, 5, 0, 25), Utc(1, 1, 5, 0, 40), Utc(1, 1, 5, 1, 10)], Ticks("10-40/15 * * * * *", 4));
        Assert.Equal([Utc(3, 1, 9), Utc(12, 1, 9)], Ticks("0 0 9 1 mar,DEC *", 2));
    }

    [Fact]
    public void A_schedule_never_fires_at_the_instant_it_starts_from()
    {
        Assert.Equal([Utc(1, 1, 5, 0, 1)], Ticks("* * * * * *", 1));
    }

    [Theory]
    [InlineData("@yearly", "2027-01-01T00:00:00Z")]
    [InlineData("@annually", "2027-01-01T00:00:00Z")]
    [InlineData("@monthly", "2026-02-01T00:00:00Z")]
    [InlineData("@weekly", "2026-01-04T00:00:00Z")]
    [InlineData("@daily", "2026-01-02T00:00:00Z")]
    [InlineData("@midnight", "2026-01-02T00:00:00Z")]
    [InlineData("@hourly", "2026-01-01T06:00:00Z")]
    public void Descriptors_mean_what_robfig_cron_says(string schedule, string next)
    {
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), JobSchedule.Parse(schedule).Next(Start));
    }

    [Fact]
    public void Every_adds_the_delay_to_the_previous_tick_without_rounding()
    {
        Assert.Equal([Start.AddMilliseconds(1500), Start.AddMilliseconds(3000)], Ticks("@every 1.5s", 2));
        Assert.Equal(Start, JobSchedule.Parse("@every 0s").Next(Start));
    }

    [Fact]
    public void A_time_zone_prefix_evaluates_the_fields_in_that_zone_across_daylight_saving()
    {
        // 09:00 in New York: 14:00 UTC in winter, 13:00 UTC in summer.
        Assert.Equal(Utc(1, 1, 14), JobSchedule.Parse("TZ=America/New_York 0 0 9 * * *").Next(Start));
        Assert.Equal(Utc(7, 1, 13), JobSchedule.Parse("CRON_TZ=America/New_York 0 0 9 * * *").Next(Utc(7, 1, 5)));
    }

    [Fact]
    public void A_tick_in_the_hour_the_clock_skips_fires_when_the_clock_jumps()
    {
        // 2026-03-08 in New York: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        Assert.Equal(new DateTimeOffset(2026, 3, 8, 7, 0, 0, TimeSpan.Zero),
            JobSchedule.Parse("TZ=America/New_York 0 30 2 * * *").Next(new DateTimeOffset(2026, 3, 8, 5, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Without_a_prefix_the_fields_are_utc()
    {
        Assert.Equal(Utc(1, 1, 9), JobSchedule.Parse("0 0 9 * * *").Next(Start));
    }

    [Theory]
    [InlineData("* * * * *", "expected exactly 6 fields, found 5: [* * * * *]")]
    [InlineData("* * * * * * *", "expected exactly 6 fields, found 7: [* * * * * * *]")]
    [InlineData("@foo", "unrecognized descriptor: @foo")]
    [InlineData("@every_minute", "unrecognized descriptor: @every_minute")]
    [InlineData("@every x", "failed to parse duration @every x: time: invalid duration \"x\"")]
    [InlineData("60 * * * * *", "end of range (60) above maximum (59): 60")]
    [InlineData("* * * 0 * *", "beginning of range (0) below minimum (1): 0")]
    [InlineData("* * * * * 7", "end of range (7) above maximum (6): 7")]
    [InlineData("5-1 * * * * *", "beginning of range (5) beyond end of range (1): 5-1")]
    [InlineData("*/0 * * * * *", "step of range should be a positive number: */0")]
    [InlineData("1-2-3 * * * * *", "too many hyphens: 1-2-3")]
    [InlineData("*/2/3 * * * * *", "too many slashes: */2/3")]
    [InlineData("a * * * * *", "failed to parse int from a: strconv.Atoi: parsing \"a\": invalid syntax")]
    [InlineData("* * * * * L", "failed to parse int from L: strconv.Atoi: parsing \"L\": invalid syntax")]
    [InlineData("TZ=Not/AZone * * * * * *", "provided bad location Not/AZone: unknown time zone Not/AZone")]
    [InlineData("TZ=UTC @every 1s", "a time zone prefix cannot be used with @every: TZ=UTC @every 1s")]
    [InlineData("TZ=UTC", "a time zone prefix needs a schedule after it: TZ=UTC")]
    public void A_schedule_the_scheduler_refuses_is_refused_with_its_words(string schedule, string message)
    {
        Assert.Equal(message, Assert.Throws<FormatException>(() => JobSchedule.Parse(schedule)).Message);
    }

    [Fact]
    public void A_relative_due_time_counts_from_now_and_a_relative_ttl_from_the_due_time()
    {
        var plan = JobPlan.For(new Job { Name = "j", Schedule = "@every 1s", DueTime = "10s", Ttl = "PT1M" }, Start);
        Assert.Equal(Start.AddSeconds(10), plan.FirstTick);
        Assert.Equal(Start.AddSeconds(70), plan.Expiry);
    }

    [Theory]
    [InlineData("2026-01-01T06:00:00Z", "2026-01-01T06:00:00Z")]
    [InlineData("2026-01-01T07:30:00.250+02:00", "2026-01-01T05:30:00.250Z")]
    [InlineData("90m", "2026-01-01T06:30:00Z")]
    [InlineData("-1s", "2026-01-01T04:59:59Z")]
    [InlineData("P1Y2M3DT4H5M6.5S", "2027-03-04T09:05:06.500Z")]
    [InlineData("P2W", "2026-01-15T05:00:00Z")]
    [InlineData("R0/PT1S", "2026-01-01T05:00:01Z")]
    public void A_due_time_is_rfc3339_a_go_duration_or_an_iso8601_duration(string dueTime, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            JobPlan.For(new Job { Name = "j", DueTime = dueTime }, Start).FirstTick);
    }

    [Fact]
    public void A_schedule_alone_first_fires_at_its_first_tick_after_now()
    {
        Assert.Equal(Start.AddSeconds(5), JobPlan.For(new Job { Name = "j", Schedule = "@every 5s" }, Start).FirstTick);
    }

    [Theory]
    [InlineData(null, null, null, null, "job must have either a due time or a schedule")]
    [InlineData(null, "1s", 2u, null, "job must have a schedule to repeat")]
    [InlineData("@every 1s", null, 0u, null, "defined repeats must be greater than 0")]
    [InlineData(null, "1s", null, "1h", "job must have a schedule to have a ttl")]
    [InlineData(null, "tomorrow", null, null, "due time format not recognized")]
    [InlineData(null, "2026-01-01 06:00:00", null, null, "due time format not recognized")]
    [InlineData(null, "P", null, null, "due time format not recognized")]
    [InlineData(null, "PT", null, null, "due time format not recognized")]
    [InlineData(null, "R2/PT1S", null, null, "repeats not supported for due time")]
    [InlineData("@every 1s", null, null, "later", "ttl format not recognized")]
    [InlineData("@every 1s", null, null, "R3/PT1M", "ttl format not recognized")]
    [InlineData("@every 1s", "2026-01-01T07:00:00Z", null, "2026-01-01T06:00:00Z", "ttl must be greater than due time")]
    [InlineData("* * * * *", null, null, null, "expected exactly 6 fields, found 5: [* * * * *]")]
    public void A_job_the_scheduler_refuses_is_refused_in_its_order_and_words(string? schedule, string? dueTime, uint? repeats, string? ttl, string message)
    {
        var job = TestJobs.New("j", schedule, dueTime, repeats, ttl);
        Assert.Equal(message, Assert.Throws<FormatException>(() => JobPlan.For(job, Start)).Message);
    }

    [Fact]
    public void A_due_time_with_one_repeat_and_no_schedule_is_accepted()
    {
        Assert.Equal(Start.AddSeconds(1), JobPlan.For(new Job { Name = "j", DueTime = "1s", Repeats = 1 }, Start).FirstTick);
    }

    [Fact]
    public void The_next_tick_follows_the_schedule_from_the_scheduled_tick_until_repeats_or_the_ttl_end_it()
    {
        var job = new Job { Name = "j", Schedule = "@every 1s", Repeats = 3 };
        Assert.Equal(Start.AddSeconds(1), JobPlan.NextTick(job, Start, null, 1));
        Assert.Null(JobPlan.NextTick(job, Start, null, 3));
        Assert.Null(JobPlan.NextTick(new Job { Name = "j", Schedule = "@every 1s" }, Start, Start.AddMilliseconds(999), 1));
        Assert.Null(JobPlan.NextTick(new Job { Name = "j", DueTime = "1s" }, Start, null, 1));
    }

    [Theory]
    [InlineData("my||job@name", null)]
    [InlineData("Upper Case and spaces", null)]
    [InlineData("bad/name", "name contains forbidden character: \"/\"")]
    [InlineData("bad\\name", "name contains forbidden character: \"\\\\\"")]
    [InlineData("bad#name", "name contains forbidden character: \"#\"")]
    [InlineData("bad?name", "name contains forbidden character: \"?\"")]
    [InlineData("bad\0name", "name contains control character at position 3: \"\\x00\"")]
    [InlineData("bad\nname", "name contains control character at position 3: \"\\n\"")]
    [InlineData(".", "name is a path traversal sequence: \".\"")]
    [InlineData("..", "name is a path traversal sequence: \"..\"")]
    public void Job_names_follow_the_schedulers_rule_since_daprd_1_18_2(string name, string? problem)
    {
        Assert.Equal(problem, JobsApi.NameProblem(name));
    }

    [Fact]
    public void A_600_character_name_is_refused()
    {
        Assert.Equal("name is too long: 600 characters (at most 512)", JobsApi.NameProblem(new string('a', 600)));
    }
}
