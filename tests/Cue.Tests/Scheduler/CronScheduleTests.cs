using Cue.Scheduler.Occurrences;
using NUnit.Framework;

namespace Cue.Tests.Scheduler;

public sealed class Parsing_a_cron_expression
{
    [TestCase("* * * * *")]
    [TestCase("0 0 * * *")]
    [TestCase("*/5 * * * *")]
    [TestCase("0-30/10 * * * *")]
    [TestCase("5/15 * * * *")]
    [TestCase("0 9-17 * * MON-FRI")]
    [TestCase("0 0 1 jan,Jul *")]
    [TestCase("0 0 1 JAN-DEC/2 *")]
    [TestCase("0 12 * * Mon,wed,FRI")]
    [TestCase("0 0 * * sun")]
    [TestCase("0 0 * * 7")]
    [TestCase("0 0 * * 0-7")]
    [TestCase("0 0 * * 5-7")]
    [TestCase("59 23 31 12 6")]
    [TestCase("0,15,30,45 */2 1-15 1-12/3 1,3,5")]
    [TestCase("00 05 * * *")]
    [TestCase("*/59 */23 */31 */12 */7")]
    [TestCase("0\t0 * * *")]
    [TestCase("0   0 *\t\t* *")]
    [TestCase("@yearly")]
    [TestCase("@annually")]
    [TestCase("@monthly")]
    [TestCase("@weekly")]
    [TestCase("@daily")]
    [TestCase("@midnight")]
    [TestCase("@hourly")]
    public void Accepts_the_contract_grammar(string expression)
    {
        Assert.That(CronSchedule.TryParse(expression, out var schedule, out var error), Is.True, () => error!);
        Assert.That(schedule!.Expression, Is.EqualTo(expression));
    }

    [Test]
    public void Keeps_the_expression_trimmed()
    {
        Assert.That(CronSchedule.TryParse("  0 0 * * *\t", out var schedule, out _), Is.True);
        Assert.That(schedule!.Expression, Is.EqualTo("0 0 * * *"));
    }

    [TestCase("0 0 0 * * *", "5 fields")]
    [TestCase("0 0 0 * * * 2026", "5 fields")]
    [TestCase("0 0 * *", "5 fields")]
    [TestCase("", "5 fields")]
    [TestCase("0 0 ? * *", "'?'")]
    [TestCase("0 0 L * *", "'L'")]
    [TestCase("0 0 LW * *", "'L'")]
    [TestCase("0 0 15W * *", "'W'")]
    [TestCase("0 0 * * 5L", "'L'")]
    [TestCase("0 0 * * 5#2", "'#'")]
    [TestCase("@reboot", "@reboot")]
    [TestCase("@every", "macro")]
    [TestCase("@daily 0", "macro")]
    [TestCase("60 * * * *", "out of range")]
    [TestCase("* 24 * * *", "out of range")]
    [TestCase("* * 0 * *", "out of range")]
    [TestCase("* * 32 * *", "out of range")]
    [TestCase("* * * 0 *", "out of range")]
    [TestCase("* * * 13 *", "out of range")]
    [TestCase("* * * * 8", "out of range")]
    [TestCase("0-60 * * * *", "out of range")]
    [TestCase("*/0 * * * *", "step 0")]
    [TestCase("0 0-23/0 * * *", "step 0")]
    [TestCase("*/60 * * * *", "step")]
    [TestCase("30-10 * * * *", "reversed")]
    [TestCase("* * * DEC-JAN *", "reversed")]
    [TestCase("0 0 * * SAT-SUN", "reversed")]
    [TestCase("0 0 * * MONDAY", "not a valid value")]
    [TestCase("JAN * * * *", "not a valid value")]
    [TestCase("0 0 * MON *", "not a valid value")]
    [TestCase("H * * * *", "not a valid value")]
    [TestCase("-1 * * * *", "not a valid value")]
    [TestCase("1- * * * *", "not a valid value")]
    [TestCase("1,,2 * * * *", "empty")]
    [TestCase("*/ * * * *", "step")]
    [TestCase("1/2/3 * * * *", "step")]
    [TestCase("0 0 * * *\n", "character")]
    [TestCase("0 0 * * 1;2", "character")]
    public void Rejects_what_the_contract_rejects(string expression, string reason)
    {
        Assert.That(CronSchedule.TryParse(expression, out var schedule, out var error), Is.False);
        Assert.That(schedule, Is.Null);
        Assert.That(error, Does.Contain(reason));
    }

    [Test]
    public void Rejects_more_than_100_characters()
    {
        var hundred = "00" + string.Concat(Enumerable.Repeat(",0", 45)) + " * * * *";
        Assert.That(hundred, Has.Length.EqualTo(100));
        Assert.That(CronSchedule.TryParse(hundred, out _, out _), Is.True);

        var hundredAndOne = "0" + hundred;
        Assert.That(CronSchedule.TryParse(hundredAndOne, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("100"));
    }
}

public sealed class Computing_occurrences
{
    private static readonly TimeZoneInfo Utc = TimeZoneInfo.Utc;

    internal static CronSchedule Cron(string expression)
    {
        Assert.That(CronSchedule.TryParse(expression, out var schedule, out var error), Is.True, () => error!);
        return schedule!;
    }

    internal static DateTimeOffset At(int year, int month, int day, int hour = 0, int minute = 0) =>
        new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Test]
    public void Expands_a_start_and_step_to_the_end_of_the_range() =>
        Assert.That(
            Cron("5/15 * * * *").Between(At(2026, 3, 20, 10), At(2026, 3, 20, 11, 5), Utc),
            Is.EqualTo(new[] { At(2026, 3, 20, 10, 5), At(2026, 3, 20, 10, 20), At(2026, 3, 20, 10, 35), At(2026, 3, 20, 10, 50), At(2026, 3, 20, 11, 5) }));

    [Test]
    public void Steps_through_a_range() =>
        Assert.That(
            Cron("0 9-17/4 * * *").Between(At(2026, 3, 20), At(2026, 3, 21), Utc),
            Is.EqualTo(new[] { At(2026, 3, 20, 9), At(2026, 3, 20, 13), At(2026, 3, 20, 17) }));

    [Test]
    public void Reads_month_names_in_any_case() =>
        Assert.That(
            Cron("0 0 1 jan,Jul *").Between(At(2026, 3, 1), At(2027, 3, 1), Utc),
            Is.EqualTo(new[] { At(2026, 7, 1), At(2027, 1, 1) }));

    // 16 March 2026 is a Monday.
    [TestCase("0 12 * * 0")]
    [TestCase("0 12 * * 7")]
    [TestCase("0 12 * * sun")]
    [TestCase("0 12 * * SUN")]
    public void Treats_0_7_and_SUN_as_Sunday(string expression) =>
        Assert.That(Cron(expression).NextAfter(At(2026, 3, 16), Utc), Is.EqualTo(At(2026, 3, 22, 12)));

    [Test]
    public void Reads_weekday_lists_with_names() =>
        Assert.That(
            Cron("0 12 * * Mon,wed,FRI").Between(At(2026, 3, 16), At(2026, 3, 23, 12), Utc),
            Is.EqualTo(new[] { At(2026, 3, 16, 12), At(2026, 3, 18, 12), At(2026, 3, 20, 12), At(2026, 3, 23, 12) }));

    // From Friday 20 March 2026, 10:30 UTC.
    [TestCase("@hourly", 2026, 3, 20, 11)]
    [TestCase("@daily", 2026, 3, 21, 0)]
    [TestCase("@midnight", 2026, 3, 21, 0)]
    [TestCase("@weekly", 2026, 3, 22, 0)]
    [TestCase("@monthly", 2026, 4, 1, 0)]
    [TestCase("@yearly", 2027, 1, 1, 0)]
    [TestCase("@annually", 2027, 1, 1, 0)]
    public void Expands_macros(string macro, int year, int month, int day, int hour) =>
        Assert.That(Cron(macro).NextAfter(At(2026, 3, 20, 10, 30), Utc), Is.EqualTo(At(year, month, day, hour)));

    [Test]
    public void Fires_strictly_after_the_given_instant() =>
        Assert.That(Cron("0 * * * *").NextAfter(At(2026, 3, 20, 10), Utc), Is.EqualTo(At(2026, 3, 20, 11)));

    [Test]
    public void Fires_on_the_13th_and_on_Fridays_when_both_day_fields_are_restricted() =>
        // 2026: Fridays are 2, 9, 16, 23, 30 January and 6, 13, 20 February; 13 January is a Tuesday.
        Assert.That(
            Cron("0 0 13 * 5").Between(At(2026, 1, 1), At(2026, 2, 20), Utc),
            Is.EqualTo(new[]
            {
                At(2026, 1, 2), At(2026, 1, 9), At(2026, 1, 13), At(2026, 1, 16), At(2026, 1, 23), At(2026, 1, 30),
                At(2026, 2, 6), At(2026, 2, 13), At(2026, 2, 20),
            }));

    [Test]
    public void Requires_both_day_fields_when_one_starts_with_a_star() =>
        // */13 is the 1st, 14th and 27th: the Fridays among them up to June 2026 are 27 Feb, 27 Mar and 1 May.
        Assert.That(
            Cron("0 0 */13 * 5").Between(At(2026, 1, 1), At(2026, 6, 1), Utc),
            Is.EqualTo(new[] { At(2026, 2, 27), At(2026, 3, 27), At(2026, 5, 1) }));

    [Test]
    public void Ignores_the_unrestricted_day_field() =>
        Assert.That(
            Cron("0 0 13 * *").Between(At(2026, 1, 1), At(2026, 3, 31), Utc),
            Is.EqualTo(new[] { At(2026, 1, 13), At(2026, 2, 13), At(2026, 3, 13) }));

    [TestCase("0 0 30 2 *", false)]
    [TestCase("0 0 31 4 *", false)]
    [TestCase("0 0 31 2,4,6,9,11 *", false)]
    [TestCase("0 0 29 2 *", true)]
    [TestCase("0 0 30 2 1", true)]
    [TestCase("* * * * *", true)]
    public void Knows_whether_it_fires_within_five_years(string expression, bool fires) =>
        Assert.That(Cron(expression).HasOccurrenceWithin(At(2026, 3, 1), TimeSpan.FromDays(5 * 365), Utc), Is.EqualTo(fires));

    [Test]
    public void Has_no_next_occurrence_on_30_February() =>
        Assert.That(Cron("0 0 30 2 *").NextAfter(At(2026, 3, 1), Utc), Is.Null);
}

// Contract §6.2. America/New_York 2026: clocks jump 02:00 EST → 03:00 EDT on 8 March (07:00Z) and fall back
// 02:00 EDT → 01:00 EST on 1 November (06:00Z). Europe/Berlin and Europe/Paris 2026: 02:00 CET → 03:00 CEST on
// 29 March (01:00Z), 03:00 CEST → 02:00 CET on 25 October (01:00Z).
public sealed class Computing_occurrences_across_clock_changes
{
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    private static CronSchedule Cron(string expression) => Computing_occurrences.Cron(expression);

    private static DateTimeOffset At(int year, int month, int day, int hour = 0, int minute = 0) =>
        Computing_occurrences.At(year, month, day, hour, minute);

    [Test]
    public void New_York_02_30_shifts_to_the_transition_on_8_March() =>
        Assert.That(
            Cron("30 2 * * *").Between(At(2026, 3, 7), At(2026, 3, 10), NewYork),
            Is.EqualTo(new[] { At(2026, 3, 7, 7, 30), At(2026, 3, 8, 7), At(2026, 3, 9, 6, 30) }));

    [Test]
    public void New_York_02_30_is_02_30_EST_on_1_November() =>
        Assert.That(
            Cron("30 2 * * *").Between(At(2026, 10, 31), At(2026, 11, 3), NewYork),
            Is.EqualTo(new[] { At(2026, 10, 31, 6, 30), At(2026, 11, 1, 7, 30), At(2026, 11, 2, 7, 30) }));

    [Test]
    public void New_York_01_30_is_unaffected_on_8_March() =>
        Assert.That(
            Cron("30 1 * * *").Between(At(2026, 3, 7), At(2026, 3, 10), NewYork),
            Is.EqualTo(new[] { At(2026, 3, 7, 6, 30), At(2026, 3, 8, 6, 30), At(2026, 3, 9, 5, 30) }));

    [Test]
    public void New_York_01_30_fires_once_at_01_30_EDT_on_1_November() =>
        Assert.That(
            Cron("30 1 * * *").Between(At(2026, 10, 31), At(2026, 11, 3), NewYork),
            Is.EqualTo(new[] { At(2026, 10, 31, 5, 30), At(2026, 11, 1, 5, 30), At(2026, 11, 2, 6, 30) }));

    [Test]
    public void New_York_hourly_collapses_02_00_onto_03_00_EDT_on_8_March() =>
        // 00:00 EST, 01:00 EST, 03:00 EDT (02:00 does not exist), 04:00 EDT.
        Assert.That(
            Cron("0 * * * *").Between(At(2026, 3, 8, 4, 30), At(2026, 3, 8, 8, 30), NewYork),
            Is.EqualTo(new[] { At(2026, 3, 8, 5), At(2026, 3, 8, 6), At(2026, 3, 8, 7), At(2026, 3, 8, 8) }));

    [Test]
    public void New_York_hourly_fires_01_00_twice_on_1_November() =>
        // 01:00 EDT, 01:00 EST, 02:00 EST, 03:00 EST.
        Assert.That(
            Cron("0 * * * *").Between(At(2026, 11, 1, 4, 30), At(2026, 11, 1, 8, 30), NewYork),
            Is.EqualTo(new[] { At(2026, 11, 1, 5), At(2026, 11, 1, 6), At(2026, 11, 1, 7), At(2026, 11, 1, 8) }));

    [Test]
    public void New_York_a_fixed_hour_fires_each_minute_of_it_once_on_1_November()
    {
        // 01:00–01:59 EDT are 05:00Z–05:59Z; their second pass in EST (06:00Z–06:59Z) does not fire.
        var expected = Enumerable.Range(0, 60).Select(i => At(2026, 11, 1, 5).AddMinutes(i)).ToArray();
        Assert.That(Cron("* 1 * * *").Between(At(2026, 11, 1, 4), At(2026, 11, 1, 8), NewYork), Is.EqualTo(expected));
        Assert.That(
            Cron("*/30 1 * * *").Between(At(2026, 11, 1, 4), At(2026, 11, 1, 8), NewYork),
            Is.EqualTo(new[] { At(2026, 11, 1, 5), At(2026, 11, 1, 5, 30) }));
    }

    [Test]
    public void Berlin_02_30_shifts_to_the_transition_on_29_March() =>
        Assert.That(
            Cron("30 2 * * *").Between(At(2026, 3, 28), At(2026, 3, 31), Berlin),
            Is.EqualTo(new[] { At(2026, 3, 28, 1, 30), At(2026, 3, 29, 1), At(2026, 3, 30, 0, 30) }));

    [Test]
    public void Berlin_hourly_collapses_02_00_onto_03_00_CEST_on_29_March() =>
        // 00:00 CET, 01:00 CET, 03:00 CEST (02:00 does not exist), 04:00 CEST.
        Assert.That(
            Cron("0 * * * *").Between(At(2026, 3, 28, 22, 30), At(2026, 3, 29, 2, 30), Berlin),
            Is.EqualTo(new[] { At(2026, 3, 28, 23), At(2026, 3, 29, 0), At(2026, 3, 29, 1), At(2026, 3, 29, 2) }));

    [Test]
    public void Berlin_all_occurrences_inside_the_gap_make_one() =>
        // 02:00, 02:20 and 02:40 do not exist on 29 March: one execution at 01:00Z, then 02:xx CEST on 30 March.
        Assert.That(
            Cron("*/20 2 * * *").Between(At(2026, 3, 28, 12), At(2026, 3, 30, 12), Berlin),
            Is.EqualTo(new[] { At(2026, 3, 29, 1), At(2026, 3, 30, 0), At(2026, 3, 30, 0, 20), At(2026, 3, 30, 0, 40) }));

    [Test]
    public void Berlin_02_30_fires_once_at_02_30_CEST_on_25_October() =>
        Assert.That(
            Cron("30 2 * * *").Between(At(2026, 10, 24), At(2026, 10, 27), Berlin),
            Is.EqualTo(new[] { At(2026, 10, 24, 0, 30), At(2026, 10, 25, 0, 30), At(2026, 10, 26, 1, 30) }));

    [Test]
    public void Berlin_every_half_hour_fires_in_both_passes_on_25_October() =>
        // 01:30 CEST, 02:00 CEST, 02:30 CEST, 02:00 CET, 02:30 CET, 03:00 CET.
        Assert.That(
            Cron("*/30 * * * *").Between(At(2026, 10, 24, 23, 15), At(2026, 10, 25, 2, 15), Berlin),
            Is.EqualTo(new[] { At(2026, 10, 24, 23, 30), At(2026, 10, 25, 0), At(2026, 10, 25, 0, 30), At(2026, 10, 25, 1), At(2026, 10, 25, 1, 30), At(2026, 10, 25, 2) }));

    [Test]
    public void Berlin_a_fixed_hour_fires_only_in_the_first_pass_on_25_October() =>
        Assert.That(
            Cron("*/30 2 * * *").Between(At(2026, 10, 24, 12), At(2026, 10, 26, 12), Berlin),
            Is.EqualTo(new[] { At(2026, 10, 25, 0), At(2026, 10, 25, 0, 30), At(2026, 10, 26, 1), At(2026, 10, 26, 1, 30) }));

    [Test]
    public void Berlin_a_fixed_hour_does_not_fire_when_asked_from_inside_the_second_pass() =>
        // 01:10Z is 02:10 CET, the second pass; 02:30 already fired at 00:30Z.
        Assert.That(Cron("30 2 * * *").NextAfter(At(2026, 10, 25, 1, 10), Berlin), Is.EqualTo(At(2026, 10, 26, 1, 30)));

    [Test]
    public void Berlin_an_hourly_schedule_does_fire_when_asked_from_inside_the_second_pass() =>
        // 01:10Z is 02:10 CET; 02:30 CET is 01:30Z.
        Assert.That(Cron("30 * * * *").NextAfter(At(2026, 10, 25, 1, 10), Berlin), Is.EqualTo(At(2026, 10, 25, 1, 30)));

    [TestCase(3, 29)]
    [TestCase(10, 25)]
    public void Paris_every_minute_fires_once_per_real_minute_through_a_clock_change(int month, int day)
    {
        var from = At(2026, month, day);
        var expected = Enumerable.Range(1, 120).Select(i => from.AddMinutes(i)).ToArray();
        Assert.That(Cron("*/1 * * * *").Between(from, from.AddHours(2), Paris), Is.EqualTo(expected));
    }

    [Test]
    public void Returns_utc_instants() =>
        Assert.That(Cron("30 2 * * *").NextAfter(At(2026, 6, 1), NewYork)!.Value.Offset, Is.EqualTo(TimeSpan.Zero));
}

/// <summary>
/// Compares the schedule, minute by minute, with a literal reading of §6.2 that does not use Cronos or
/// TimeZoneInfo's ambiguity helpers: walk real time, and watch the local clock jump forward or repeat.
/// </summary>
public sealed class Computing_occurrences_like_a_minute_by_minute_reading_of_the_contract
{
    private sealed record Case(string Expression, bool BothPasses, Func<DateTime, bool> Matches);

    private static readonly Case[] Cases =
    [
        new("30 2 * * *", false, l => l is { Hour: 2, Minute: 30 }),
        new("30 1 * * *", false, l => l is { Hour: 1, Minute: 30 }),
        new("45 2 * * *", false, l => l is { Hour: 2, Minute: 45 }),
        new("0 * * * *", true, l => l.Minute == 0),
        new("10 * * * *", true, l => l.Minute == 10),
        new("*/15 * * * *", true, l => l.Minute % 15 == 0),
        new("* * * * *", true, _ => true),
        new("0 */2 * * *", true, l => l.Minute == 0 && l.Hour % 2 == 0),
        new("* 1 * * *", false, l => l.Hour == 1),
        new("*/30 1-2 * * *", false, l => l.Minute % 30 == 0 && l.Hour is 1 or 2),
        new("15,45 0-3 * * *", false, l => l.Minute is 15 or 45 && l.Hour <= 3),
        new("0 0 13 * 5", false, l => l is { Hour: 0, Minute: 0 } && (l.Day == 13 || l.DayOfWeek == DayOfWeek.Friday)),
        new("30 * * * 0", true, l => l.Minute == 30 && l.DayOfWeek == DayOfWeek.Sunday),
    ];

    [TestCase("America/New_York", 3, 8)]
    [TestCase("America/New_York", 11, 1)]
    [TestCase("Europe/Berlin", 3, 29)]
    [TestCase("Europe/Berlin", 10, 25)]
    [TestCase("Australia/Lord_Howe", 4, 5)] // 30-minute shift
    [TestCase("Australia/Lord_Howe", 10, 4)]
    [TestCase("Antarctica/Troll", 3, 29)] // 2-hour shift
    [TestCase("Antarctica/Troll", 10, 25)]
    [TestCase("Pacific/Chatham", 4, 5)] // changes at :45
    [TestCase("Pacific/Chatham", 9, 27)]
    public void Agrees_around_a_clock_change(string zoneId, int month, int day)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var windowStart = new DateTimeOffset(2026, month, day, 0, 0, 0, TimeSpan.Zero).AddDays(-1);
        var windowEnd = windowStart.AddDays(3);

        foreach (var @case in Cases)
        {
            var (expected, clockChanges) = Reference(@case, zone, windowStart, windowEnd);
            Assert.That(clockChanges, Is.EqualTo(1), "the window must contain the clock change");

            var schedule = Computing_occurrences.Cron(@case.Expression);
            Assert.That(schedule.Between(windowStart, windowEnd, zone), Is.EqualTo(expected), @case.Expression);

            // Asked from any minute, the next occurrence is the reference's next one.
            var next = 0;
            for (var from = windowStart; next < expected.Count; from = from.AddMinutes(1))
            {
                while (next < expected.Count && expected[next] <= from)
                {
                    next++;
                }

                if (next < expected.Count)
                {
                    Assert.That(schedule.NextAfter(from, zone), Is.EqualTo(expected[next]), () => $"{@case.Expression} after {from:O}");
                }
            }
        }
    }

    private static (List<DateTimeOffset> Occurrences, int ClockChanges) Reference(Case @case, TimeZoneInfo zone, DateTimeOffset windowStart, DateTimeOffset windowEnd)
    {
        var occurrences = new List<DateTimeOffset>();
        var clockChanges = 0;
        var instant = windowStart.AddDays(-1);
        var previousLocal = Local(instant, zone);
        var latestLocal = previousLocal;
        while (instant < windowEnd)
        {
            instant = instant.AddMinutes(1);
            var local = Local(instant, zone);
            if (local - previousLocal != TimeSpan.FromMinutes(1))
            {
                clockChanges++;
            }

            bool fires;
            if (local <= latestLocal)
            {
                // The clock went back: this local time has been shown before.
                fires = @case.BothPasses && @case.Matches(local);
            }
            else if (local > latestLocal.AddMinutes(1))
            {
                // The clock jumped: the skipped local times and the one now shown fire once, now.
                fires = false;
                for (var skipped = latestLocal.AddMinutes(1); skipped <= local; skipped = skipped.AddMinutes(1))
                {
                    fires |= @case.Matches(skipped);
                }
            }
            else
            {
                fires = @case.Matches(local);
            }

            if (fires && instant > windowStart)
            {
                occurrences.Add(instant);
            }

            previousLocal = local;
            latestLocal = local > latestLocal ? local : latestLocal;
        }

        return (occurrences, clockChanges);
    }

    private static DateTime Local(DateTimeOffset instant, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(instant, zone).DateTime;
}
