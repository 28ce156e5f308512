using System.Diagnostics;
using System.Globalization;
using CsCheck;
using Cue.Scheduler.Occurrences;

namespace Cue.Tests.Scheduler;

/// <summary>The reference reading itself, on cases worked out by hand from §6.1.</summary>
public sealed class Reading_cron_like_the_contract
{
    [TestCase("0 0 * * 1/2", new[] { 0, 1, 3, 5 })] // 1-7/2 = 1,3,5,7 and 7 is Sunday
    [TestCase("0 0 * * MON/2", new[] { 0, 1, 3, 5 })]
    [TestCase("0 0 * * */2", new[] { 0, 2, 4, 6 })]
    [TestCase("0 0 * * 5-7", new[] { 0, 5, 6 })]
    [TestCase("0 0 * * sat,Sun", new[] { 0, 6 })]
    [TestCase("@weekly", new[] { 0 })]
    public void Expands_day_of_week(string expression, int[] days) =>
        Assert.That(CronOracle.Parse(expression).DaysOfWeek, Is.EqualTo(days));

    [Test]
    public void Applies_the_day_rule()
    {
        // Friday 13 March 2026, Saturday 14 March, Friday 20 March.
        var friday13 = new DateTime(2026, 3, 13);
        var saturday14 = new DateTime(2026, 3, 14);
        var friday20 = new DateTime(2026, 3, 20);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(new[] { friday13, saturday14, friday20 }.Select(CronOracle.Parse("0 0 14 * 5").Matches), Is.EqualTo(new[] { true, true, true }));
            Assert.That(new[] { friday13, saturday14, friday20 }.Select(CronOracle.Parse("0 0 */7 * 5").Matches), Is.EqualTo(new[] { false, false, false }));
            Assert.That(new[] { friday13, saturday14, friday20 }.Select(CronOracle.Parse("0 0 13 * *").Matches), Is.EqualTo(new[] { true, false, false }));
            Assert.That(new[] { friday13, saturday14, friday20 }.Select(CronOracle.Parse("0 0 * * FRI").Matches), Is.EqualTo(new[] { true, false, true }));
        }
    }

    [Test]
    public void Steps_from_a_start_to_the_end_of_the_range() =>
        Assert.That(
            Enumerable.Range(0, 60).Where(m => CronOracle.Parse("5/15 * * * *").Matches(new DateTime(2026, 1, 1, 0, m, 0))),
            Is.EqualTo(new[] { 5, 20, 35, 50 }));

    [TestCase("0 0 * * *\t0")]
    [TestCase("*/0 * * * *")]
    [TestCase("5-1 * * * *")]
    [TestCase("0 24 * * *")]
    [TestCase("0 0 * * 8")]
    [TestCase("0 0 L * *")]
    [TestCase("0 0 * MON *")]
    public void Rejects_what_the_grammar_does_not_allow(string expression) =>
        Assert.That(() => CronOracle.Parse(expression), Throws.TypeOf<FormatException>());
}

/// <summary>
/// Contract §6.2's example table (America/New_York 2026) and the same three crons in Europe/Berlin, checked against
/// both the reference reading and <see cref="CronSchedule"/>.
/// </summary>
public sealed class Firing_the_contract_examples_across_clock_changes
{
    // New York 2026: gap 8 Mar 02:00 EST → 03:00 EDT (07:00Z); overlap 1 Nov 01:00–01:59 twice (05:00Z–06:59Z).
    // Berlin 2026: gap 29 Mar 02:00 CET → 03:00 CEST (01:00Z); overlap 25 Oct 02:00–02:59 twice (00:00Z–01:59Z).
    // The daily crons are read over the whole local day; the hourly one over the hours around the change.
    [TestCase("America/New_York", "30 2 * * *", "2026-03-08T05:00Z", "2026-03-09T04:00Z", "2026-03-08T07:00Z")]
    [TestCase("America/New_York", "30 2 * * *", "2026-11-01T04:00Z", "2026-11-02T05:00Z", "2026-11-01T07:30Z")]
    [TestCase("America/New_York", "30 1 * * *", "2026-03-08T05:00Z", "2026-03-09T04:00Z", "2026-03-08T06:30Z")]
    [TestCase("America/New_York", "30 1 * * *", "2026-11-01T04:00Z", "2026-11-02T05:00Z", "2026-11-01T05:30Z")]
    [TestCase("America/New_York", "0 * * * *", "2026-03-08T05:30Z", "2026-03-08T08:30Z", "2026-03-08T06:00Z 2026-03-08T07:00Z 2026-03-08T08:00Z")]
    [TestCase("America/New_York", "0 * * * *", "2026-11-01T04:30Z", "2026-11-01T07:30Z", "2026-11-01T05:00Z 2026-11-01T06:00Z 2026-11-01T07:00Z")]
    [TestCase("Europe/Berlin", "30 2 * * *", "2026-03-28T23:00Z", "2026-03-29T22:00Z", "2026-03-29T01:00Z")]
    [TestCase("Europe/Berlin", "30 2 * * *", "2026-10-24T22:00Z", "2026-10-25T23:00Z", "2026-10-25T00:30Z")]
    [TestCase("Europe/Berlin", "30 1 * * *", "2026-03-28T23:00Z", "2026-03-29T22:00Z", "2026-03-29T00:30Z")]
    [TestCase("Europe/Berlin", "30 1 * * *", "2026-10-24T22:00Z", "2026-10-25T23:00Z", "2026-10-24T23:30Z")]
    [TestCase("Europe/Berlin", "0 * * * *", "2026-03-28T23:30Z", "2026-03-29T02:30Z", "2026-03-29T00:00Z 2026-03-29T01:00Z 2026-03-29T02:00Z")]
    [TestCase("Europe/Berlin", "0 * * * *", "2026-10-24T23:30Z", "2026-10-25T02:30Z", "2026-10-25T00:00Z 2026-10-25T01:00Z 2026-10-25T02:00Z")]
    public void Fires_as_the_table_says(string zoneId, string expression, string fromExclusive, string toInclusive, string expected) =>
        AssertFires(zoneId, expression, fromExclusive, toInclusive, expected);

    /// <summary>Both the reference reading and CronSchedule fire exactly at the space-separated <paramref name="expected"/> instants.</summary>
    internal static void AssertFires(string zoneId, string expression, string fromExclusive, string toInclusive, string expected)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var from = Instant(fromExclusive);
        var to = Instant(toInclusive);
        var instants = expected.Split(' ').Select(Instant).ToArray();
        Assert.That(CronSchedule.TryParse(expression, out var schedule, out var error), Is.True, () => error!);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(CronOracle.Parse(expression).Between(from, to, zone), Is.EqualTo(instants), "reference reading");
            Assert.That(schedule!.Between(from, to, zone), Is.EqualTo(instants), "CronSchedule");
        }
    }

    private static DateTimeOffset Instant(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}

/// <summary>
/// Zones with negative DST, where TimeZoneInfo's wall-clock queries see neither the gap nor the repeated hour, so
/// Cronos's own zone handling (which relies on them) fired at the wrong instants and could go backwards in time.
/// </summary>
public sealed class Firing_in_zones_with_negative_DST
{
    // Dublin 2026: 01:00 GMT → 02:00 IST on 29 Mar (01:00Z); 02:00 IST → 01:00 GMT on 25 Oct (01:00Z), so
    // 01:00–01:59 is shown at 00:00Z–00:59Z and again at 01:00Z–01:59Z.
    // Casablanca 2026: 03:00 (+01) → 02:00 (+00) on 15 Feb (02:00Z), so 02:00–02:59 is shown at 01:00Z–01:59Z and
    // again at 02:00Z–02:59Z; 02:00 (+00) → 03:00 (+01) on 22 Mar (02:00Z).
    [TestCase("Europe/Dublin", "30 1 * * *", "2026-03-29T00:00Z", "2026-03-29T23:00Z", "2026-03-29T01:00Z")]
    [TestCase("Europe/Dublin", "30 1 * * *", "2026-10-24T23:00Z", "2026-10-26T00:00Z", "2026-10-25T00:30Z")]
    [TestCase("Europe/Dublin", "0 * * * *", "2026-03-28T23:30Z", "2026-03-29T02:30Z", "2026-03-29T00:00Z 2026-03-29T01:00Z 2026-03-29T02:00Z")]
    [TestCase("Europe/Dublin", "0 * * * *", "2026-10-24T23:30Z", "2026-10-25T02:30Z", "2026-10-25T00:00Z 2026-10-25T01:00Z 2026-10-25T02:00Z")]
    [TestCase("Europe/Dublin", "45-59 * * * *", "2026-03-29T00:58Z", "2026-03-29T01:47Z", "2026-03-29T00:59Z 2026-03-29T01:00Z 2026-03-29T01:45Z 2026-03-29T01:46Z 2026-03-29T01:47Z")]
    [TestCase("Africa/Casablanca", "30 2 * * *", "2026-02-14T23:00Z", "2026-02-16T00:00Z", "2026-02-15T01:30Z")]
    [TestCase("Africa/Casablanca", "30 2 * * *", "2026-03-22T00:00Z", "2026-03-22T23:00Z", "2026-03-22T02:00Z")]
    [TestCase("Africa/Casablanca", "*/30 * * * *", "2026-02-15T00:45Z", "2026-02-15T03:15Z", "2026-02-15T01:00Z 2026-02-15T01:30Z 2026-02-15T02:00Z 2026-02-15T02:30Z 2026-02-15T03:00Z")]
    public void Fires_at_the_contract_instants(string zoneId, string expression, string fromExclusive, string toInclusive, string expected) =>
        Firing_the_contract_examples_across_clock_changes.AssertFires(zoneId, expression, fromExclusive, toInclusive, expected);

    [Test]
    public void Never_goes_back_in_time_when_asked_from_just_before_the_gap()
    {
        // The bug this pins: from 00:59Z, Cronos answered 01:45 "+01:00" (00:45Z), before the instant asked from.
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Dublin");
        Assert.That(CronSchedule.TryParse("45-59 * * 3 0", out var schedule, out _), Is.True);
        var from = new DateTimeOffset(2025, 3, 30, 0, 59, 0, TimeSpan.Zero);
        Assert.That(schedule!.NextAfter(from, zone), Is.EqualTo(new DateTimeOffset(2025, 3, 30, 1, 0, 0, TimeSpan.Zero)));
    }

    [TestCase("Europe/Dublin", "2026-03-29T01:30", "2026-03-29T01:00Z")] // skipped: the transition instant
    [TestCase("Europe/Dublin", "2026-10-25T01:30", "2026-10-25T00:30Z")] // repeated: the first (IST) instant
    [TestCase("Africa/Casablanca", "2026-03-22T02:30", "2026-03-22T02:00Z")]
    [TestCase("Africa/Casablanca", "2026-02-15T02:30", "2026-02-15T01:30Z")]
    public void Resolves_schedule_at_without_offset(string zoneId, string local, string expected) =>
        Assert.That(
            TimeZones.ResolveLocal(DateTime.Parse(local, CultureInfo.InvariantCulture), TimeZoneInfo.FindSystemTimeZoneById(zoneId)),
            Is.EqualTo(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture)));
}

/// <summary>
/// Property: for generated expressions, zones and start instants around real 2025–2027 clock changes,
/// <see cref="CronSchedule"/> fires exactly when the reference reading <see cref="CronOracle"/> does.
/// </summary>
/// <remarks>
/// Each sample walks a 3-day window minute by minute (4,320 minutes) and asks <see cref="CronSchedule.NextAfter"/>
/// from 6 further instants: 3,000 samples take about 5 s on 2 cores (60,000 samples over every IANA zone also
/// passed, in about 35 s). The output lists what the samples exercised. A failure prints the CsCheck seed; rerun
/// it with the environment variable <c>CsCheck_Seed</c> set to it.
/// </remarks>
public sealed class Computing_occurrences_against_the_reference_reading
{
    private const int Samples = 3000;
    private const int ProbesPerSample = 6;
    private static readonly TimeSpan Window = TimeSpan.FromDays(3);

    private static readonly string[] ZoneIds =
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe", // 30-minute change
        "Asia/Kolkata", // +05:30, no clock changes
        "America/Sao_Paulo", // no clock changes since 2019
        "Pacific/Chatham", // +12:45/+13:45, changes at 02:45/03:45
        "America/Santiago", // changes at midnight: the gap and the overlap straddle the day boundary
        "Antarctica/Troll", // 2-hour change
        "Europe/Dublin", // negative DST: winter time is the "daylight" one, which .NET's wall-clock queries get wrong
        "Africa/Casablanca", // negative DST during Ramadan
    ];

    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset End = new(2028, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, DateTimeOffset[]> Changes = ZoneIds.ToDictionary(id => id, id => ClockChanges(Zone(id)));

    [Test]
    public void Every_zone_but_the_fixed_ones_changes_its_clocks_in_2025_to_2027()
    {
        var changing = Changes.Where(c => c.Value.Length > 0).Select(c => c.Key);
        Assert.That(changing, Is.EquivalentTo(ZoneIds.Except(["UTC", "Asia/Kolkata", "America/Sao_Paulo"])));
        Assert.That(Changes["America/New_York"], Has.Length.EqualTo(6));
    }

    [Test]
    public void Fires_when_the_reference_reading_does()
    {
        var stopwatch = Stopwatch.StartNew();
        Cases.Sample(Check, TestContext.Out.WriteLine, iter: Samples, threads: 2);
        TestContext.Out.WriteLine($"{Samples} samples in {stopwatch.Elapsed.TotalSeconds:F1} s");
    }

    // Checks one sample and names what it exercised, for CsCheck's coverage table in the test output.
    private static string Check(Case sample)
    {
        var zone = Zone(sample.ZoneId);
        var windowEnd = sample.From + Window;
        if (!CronSchedule.TryParse(sample.Expression, out var schedule, out var error))
        {
            throw new AssertionException($"CronSchedule rejects a valid expression: {error}");
        }

        var expected = CronOracle.Parse(sample.Expression).Between(sample.From, windowEnd, zone);
        // At most one occurrence per minute: more means Between is not advancing, so stop rather than loop.
        var actual = schedule.Between(sample.From, windowEnd, zone).Take((int)Window.TotalMinutes + 2).ToList();
        if (!actual.SequenceEqual(expected))
        {
            var at = Enumerable.Range(0, Math.Max(expected.Count, actual.Count)).First(i => i >= expected.Count || i >= actual.Count || expected[i] != actual[i]);
            throw new AssertionException(
                $"Between differs at index {at}: expected {Show(expected, at, zone)}, CronSchedule {Show(actual, at, zone)}");
        }

        // Asked from anywhere in the window, including inside a gap or a repeated hour, the next occurrence is the
        // reference's next one.
        foreach (var probe in sample.Probes.Where(p => p > sample.From && p < windowEnd))
        {
            var next = expected.FirstOrDefault(e => e > probe);
            var found = schedule.NextAfter(probe, zone);
            var agrees = next == default ? found is null || found > windowEnd : found == next;
            if (!agrees)
            {
                throw new AssertionException(
                    $"NextAfter({probe:O}) = {found?.ToString("O", CultureInfo.InvariantCulture) ?? "null"}, expected {(next == default ? "none in the window" : Describe(next, zone))}");
            }
        }

        return Classify(sample, expected, zone);
    }

    private static string Classify(Case sample, List<DateTimeOffset> expected, TimeZoneInfo zone)
    {
        if (expected.Count == 0)
        {
            return "no occurrence";
        }

        var traits = new List<string>();
        if (expected.Any(e => zone.GetUtcOffset(e) > zone.GetUtcOffset(e.AddTicks(-1))))
        {
            traits.Add("fires at a forward change");
        }

        var repeated = expected.Where(e => zone.IsAmbiguousTime(e)).ToList();
        if (repeated.Count > 0)
        {
            traits.Add(repeated.GroupBy(e => Local(e, zone)).Any(g => g.Count() > 1) ? "fires twice in a repeated hour" : "fires once in a repeated hour");
        }

        var fields = sample.Expression.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 5 && !fields[2].StartsWith('*') && !fields[4].StartsWith('*'))
        {
            traits.Add("day OR rule");
        }

        return traits.Count == 0 ? "fires away from changes" : string.Join(", ", traits);
    }

    private sealed record Case(string Expression, string ZoneId, DateTimeOffset From, DateTimeOffset[] Probes)
    {
        public override string ToString() =>
            $"'{Expression.Replace("\t", "\\t", StringComparison.Ordinal)}' in {ZoneId} from {From:O} (probes {string.Join(", ", Probes.Select(p => p.ToString("O", CultureInfo.InvariantCulture)))})";
    }

    // Where a clock change sits in the window, and which wall-clock values to favour so the schedule fires near it.
    private sealed record Anchor(string ZoneId, DateTimeOffset Instant, DateTime Before, DateTime After);

    private static readonly Gen<Anchor> Anchors =
        from zoneId in Gen.OneOf(ZoneIds)
        from instant in Changes[zoneId].Length > 0
            ? Gen.OneOf(Changes[zoneId])
            : Gen.Int[0, (int)(End - Start).TotalHours].Select(h => Start.AddHours(h))
        select new Anchor(zoneId, instant, Local(instant.AddMinutes(-1), Zone(zoneId)), Local(instant, Zone(zoneId)));

    private static readonly Gen<Case> Cases =
        from anchor in Anchors
        from expression in Expressions(anchor)
        // The change lands anywhere in the window, or just outside it.
        from minutesBefore in Gen.Int[-60, (int)Window.TotalMinutes + 60]
        // Mostly whole minutes; otherwise any millisecond within the minute.
        from milliseconds in Gen.Frequency((3, Gen.Const(0)), (1, Gen.Int[1, 59_999]))
        from probes in Gen.Frequency(
            (1, Gen.Int[0, (int)Window.TotalSeconds].Select(s => (Offset: s, NearChange: false))),
            (1, Gen.Int[-3 * 3600, 3 * 3600].Select(s => (Offset: s, NearChange: true)))).Array[ProbesPerSample]
        let start = anchor.Instant.AddMinutes(-minutesBefore).AddMilliseconds(milliseconds)
        select new Case(
            expression,
            anchor.ZoneId,
            start,
            [.. probes.Select(p => p.NearChange ? anchor.Instant.AddSeconds(p.Offset) : start.AddSeconds(p.Offset))]);

    private static Gen<string> Expressions(Anchor anchor)
    {
        var hours = HoursAround(anchor.Before, anchor.After);
        var minute = Field(
            0, 59, null, 0, starWeight: 1,
            Gen.Frequency((2, Gen.Int[0, 59]), (2, Gen.OneOf(0, 15, 30, 45, 59)), (1, Gen.OneOf(anchor.Before.Minute, anchor.After.Minute))));
        var hour = Field(
            0, 23, null, 0, starWeight: 3,
            Gen.Frequency((3, Gen.Int[0, 3]), (3, Gen.OneOf(hours)), (2, Gen.Int[0, 23])));
        var dayOfMonth = Field(
            1, 31, null, 0, starWeight: 12,
            Gen.Frequency((2, Gen.Int[1, 31]), (3, Gen.OneOf(anchor.Before.Day, anchor.After.Day))));
        var month = Field(
            1, 12, ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1, starWeight: 14,
            Gen.Frequency((1, Gen.Int[1, 12]), (4, Gen.OneOf(anchor.Before.Month, anchor.After.Month))));
        var dayOfWeek = Field(
            0, 7, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 0, starWeight: 10,
            Gen.Frequency((2, Gen.Int[0, 7]), (3, Gen.OneOf((int)anchor.Before.DayOfWeek, (int)anchor.After.DayOfWeek, anchor.After.DayOfWeek == DayOfWeek.Sunday ? 7 : 0))));
        var separator = Gen.Frequency((10, Gen.Const(" ")), (1, Gen.Const("\t")), (1, Gen.Const("  ")));

        var fiveFields =
            from m in minute
            from h in hour
            from dom in dayOfMonth
            from mon in month
            from dow in dayOfWeek
            from separators in separator.Array[4]
            select $"{m}{separators[0]}{h}{separators[1]}{dom}{separators[2]}{mon}{separators[3]}{dow}";
        var macro = Gen.OneOf("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly");
        return Gen.Frequency((14, fiveFields), (1, macro)).Where(e => e.Length <= CronSchedule.MaxLength);
    }

    private static int[] HoursAround(DateTime before, DateTime after)
    {
        // The hours on the clock either side of the change and every hour it jumps over.
        var hours = new List<int> { before.Hour };
        for (var hour = before.Hour; hour != after.Hour; hour = (hour + 1) % 24)
        {
            hours.Add((hour + 1) % 24);
        }

        return [.. hours.Distinct()];
    }

    // *, n, a-b, */s, a-b/s, a/s, or a comma list of them; values sometimes as names in any case or with a leading zero.
    private static Gen<string> Field(int min, int max, string[]? names, int firstNameValue, int starWeight, Gen<int> value)
    {
        var text =
            from v in value
            from style in Gen.Int[0, 9]
            select Render(v, style, names, firstNameValue);
        var range =
            from a in value
            from span in Gen.Frequency((4, Gen.Int[0, 5]), (1, Gen.Int[0, max - min]))
            from style in Gen.Int[0, 9]
            let b = Math.Min(a + span, max)
            select $"{Render(a, style, names, firstNameValue)}-{Render(b, style, names, firstNameValue)}";
        var step = Gen.Frequency((4, Gen.Int[1, 6]), (1, Gen.Int[1, max]));
        var element = Gen.Frequency(
            (starWeight, Gen.Const("*")),
            (6, text),
            (2, range),
            (2, step.Select(s => $"*/{s}")),
            (1, from r in range from s in step select $"{r}/{s}"),
            (1, from t in text from s in step select $"{t}/{s}"));
        return Gen.Frequency((5, element), (2, element.Array[2, 3].Select(e => string.Join(',', e))));
    }

    private static string Render(int value, int style, string[]? names, int firstNameValue)
    {
        var index = value - firstNameValue;
        if (names is not null && index >= 0 && index < names.Length && style < 4)
        {
            var name = names[index];
            return style switch
            {
                0 or 1 => name,
                2 => name.ToLowerInvariant(),
                _ => name[0] + name[1..].ToLowerInvariant(),
            };
        }

        return style == 9 && value < 10 ? $"0{value}" : value.ToString(CultureInfo.InvariantCulture);
    }

    private static DateTimeOffset[] ClockChanges(TimeZoneInfo zone)
    {
        // Every 2025–2027 change in the zones tested falls on a whole or half hour UTC.
        var changes = new List<DateTimeOffset>();
        var offset = zone.GetUtcOffset(Start);
        for (var instant = Start; instant < End; instant = instant.AddMinutes(30))
        {
            var next = zone.GetUtcOffset(instant);
            if (next != offset)
            {
                changes.Add(instant);
                offset = next;
            }
        }

        return [.. changes];
    }

    private static TimeZoneInfo Zone(string id) => TimeZoneInfo.FindSystemTimeZoneById(id);

    private static DateTime Local(DateTimeOffset instant, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(instant, zone).DateTime;

    private static string Show(List<DateTimeOffset> occurrences, int at, TimeZoneInfo zone) =>
        string.Join(", ", occurrences.Skip(Math.Max(0, at - 2)).Take(5).Select(o => Describe(o, zone)));

    private static string Describe(DateTimeOffset instant, TimeZoneInfo zone) => $"{instant:O} ({Local(instant, zone):yyyy-MM-dd HH:mm ddd})";
}
