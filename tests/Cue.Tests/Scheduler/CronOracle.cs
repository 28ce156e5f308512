using System.Globalization;

namespace Cue.Tests.Scheduler;

/// <summary>
/// A second, independent reading of contract §6.1 (grammar, day rule) and §6.2 (wall-clock times, gaps, overlaps),
/// used as the reference that <c>CronSchedule</c> is compared with.
/// </summary>
/// <remarks>
/// It shares no code with <c>CronSchedule</c>, does not use Cronos, and does not use TimeZoneInfo's gap or
/// ambiguity helpers: it walks real time minute by minute and asks only <see cref="TimeZoneInfo.GetUtcOffset(DateTimeOffset)"/>
/// what the local clock shows. It is slow and simple on purpose, so that each rule can be checked against the
/// contract sentence it implements.
/// </remarks>
internal sealed class CronOracle
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly bool[] _minutes;
    private readonly bool[] _hours;
    private readonly bool[] _daysOfMonth;
    private readonly bool[] _months;
    private readonly bool[] _daysOfWeek;
    private readonly bool _dayOr;
    private readonly bool _bothPasses;

    private CronOracle(bool[] minutes, bool[] hours, bool[] daysOfMonth, bool[] months, bool[] daysOfWeek, bool dayOr, bool bothPasses)
    {
        _minutes = minutes;
        _hours = hours;
        _daysOfMonth = daysOfMonth;
        _months = months;
        _daysOfWeek = daysOfWeek;
        _dayOr = dayOr;
        _bothPasses = bothPasses;
    }

    /// <summary>Day-of-week values 0–6 (Sunday is 0) the expression allows, for tests of the oracle itself.</summary>
    public IEnumerable<int> DaysOfWeek => Enumerable.Range(0, 7).Where(d => _daysOfWeek[d]);

    /// <summary>Parses a 5-field expression or macro; throws <see cref="FormatException"/> on anything §6.1 rejects.</summary>
    public static CronOracle Parse(string expression)
    {
        if (expression.Length > 100)
        {
            throw new FormatException("more than 100 characters");
        }

        var text = expression.Trim(' ', '\t');
        text = text.ToLowerInvariant() switch
        {
            "@yearly" or "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" or "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            _ => text,
        };

        var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"{fields.Length} fields");
        }

        var weekdays = Set(fields[4], 0, 7, DayNames, 0);
        return new CronOracle(
            Set(fields[0], 0, 59, null, 0),
            Set(fields[1], 0, 23, null, 0),
            Set(fields[2], 1, 31, null, 0),
            Set(fields[3], 1, 12, MonthNames, 1),
            // 0 and 7 are both Sunday.
            [weekdays[0] || weekdays[7], weekdays[1], weekdays[2], weekdays[3], weekdays[4], weekdays[5], weekdays[6]],
            // "if neither day-of-month nor day-of-week starts with *, a day matches when either matches".
            dayOr: !fields[2].StartsWith('*') && !fields[4].StartsWith('*'),
            // "if the hour field is * or */s, occurrences in the repeated hour fire in both passes".
            bothPasses: fields[1] == "*" || (fields[1].StartsWith("*/", StringComparison.Ordinal) && IsNumber(fields[1][2..])));
    }

    /// <summary>Whether the wall-clock time <paramref name="local"/> (seconds ignored) is one of the expression's.</summary>
    public bool Matches(DateTime local)
    {
        var dayOfMonth = _daysOfMonth[local.Day];
        var dayOfWeek = _daysOfWeek[(int)local.DayOfWeek];
        var day = _dayOr ? dayOfMonth || dayOfWeek : dayOfMonth && dayOfWeek;
        return _minutes[local.Minute] && _hours[local.Hour] && _months[local.Month] && day;
    }

    /// <summary>The instants in (<paramref name="fromExclusive"/>, <paramref name="toInclusive"/>] at which the schedule fires, ascending.</summary>
    public List<DateTimeOffset> Between(DateTimeOffset fromExclusive, DateTimeOffset toInclusive, TimeZoneInfo zone)
    {
        var fired = new List<DateTimeOffset>();
        var ticks = fromExclusive.UtcTicks;
        var instant = new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMinute) + TimeSpan.TicksPerMinute, TimeSpan.Zero);
        for (; instant <= toInclusive; instant = instant.AddMinutes(1))
        {
            if (FiresAt(instant, zone))
            {
                fired.Add(instant);
            }
        }

        return fired;
    }

    /// <summary>Whether the schedule fires at the whole-minute UTC instant <paramref name="instant"/>.</summary>
    private bool FiresAt(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var offset = zone.GetUtcOffset(instant);
        var offsetJustBefore = zone.GetUtcOffset(instant.AddTicks(-1));
        if (zone.GetUtcOffset(instant.AddMinutes(-1)) != offsetJustBefore)
        {
            // A clock change strictly between two whole minutes: the minute walk cannot represent it.
            throw new NotSupportedException($"{zone.Id} changes its offset between whole minutes before {instant:O}");
        }

        var local = Wall(instant, offset);
        if (offset > offsetJustBefore)
        {
            // The clock jumps forward at this instant. "An occurrence whose local time does not exist fires once, at
            // the transition instant. All occurrences inside one gap, plus a regular occurrence that falls on that
            // same instant, produce one execution": the skipped wall-clock minutes and the one landed on count once.
            for (var shown = Wall(instant, offsetJustBefore); shown <= local; shown = shown.AddMinutes(1))
            {
                if (Matches(shown))
                {
                    return true;
                }
            }

            return false;
        }

        if (!Matches(local))
        {
            return false;
        }

        // A wall-clock time shown twice fires in both passes only for an hour field of * or */s; otherwise "once, at
        // its first (earlier-offset) instant".
        return OtherInstantShowing(local, instant, offset, zone) is not { } other || _bothPasses || instant < other;
    }

    /// <summary>Another instant at which the local clock shows <paramref name="local"/> too, if the time is repeated.</summary>
    private static DateTimeOffset? OtherInstantShowing(DateTime local, DateTimeOffset instant, TimeSpan offset, TimeZoneInfo zone)
    {
        // Any other offset the zone uses nearby is a candidate; the wall time is shown again if the zone really has
        // that offset at the instant that would show it. (The zones tested change offset at most once a day.)
        TimeSpan[] candidates =
        [
            zone.GetUtcOffset(instant.AddHours(-3)), zone.GetUtcOffset(instant.AddHours(3)),
            zone.GetUtcOffset(instant.AddDays(-1)), zone.GetUtcOffset(instant.AddDays(1)),
        ];
        foreach (var candidate in candidates.Where(c => c != offset).Distinct())
        {
            var other = new DateTimeOffset(local.Ticks - candidate.Ticks, TimeSpan.Zero);
            if (zone.GetUtcOffset(other) == candidate)
            {
                return other;
            }
        }

        return null;
    }

    private static DateTime Wall(DateTimeOffset instant, TimeSpan offset) => new(instant.UtcTicks + offset.Ticks, DateTimeKind.Unspecified);

    private static bool[] Set(string field, int min, int max, string[]? names, int firstNameValue)
    {
        var set = new bool[max + 1];
        foreach (var element in field.Split(','))
        {
            // *, n, a-b, */s, a-b/s, a/s (= a-max/s).
            var parts = element.Split('/');
            if (parts.Length > 2)
            {
                throw new FormatException($"'{element}'");
            }

            var step = parts.Length == 2 ? Number(parts[1]) : 1;
            if (step < 1)
            {
                throw new FormatException($"step 0 in '{element}'");
            }

            int low, high;
            var bounds = parts[0].Split('-');
            if (parts[0] == "*")
            {
                (low, high) = (min, max);
            }
            else if (bounds.Length == 2)
            {
                (low, high) = (Value(bounds[0], min, max, names, firstNameValue), Value(bounds[1], min, max, names, firstNameValue));
                if (low > high)
                {
                    throw new FormatException($"reversed range '{element}'");
                }
            }
            else if (bounds.Length == 1)
            {
                low = Value(parts[0], min, max, names, firstNameValue);
                high = parts.Length == 2 ? max : low;
            }
            else
            {
                throw new FormatException($"'{element}'");
            }

            for (var value = low; value <= high; value += step)
            {
                set[value] = true;
            }
        }

        return set;
    }

    private static int Value(string text, int min, int max, string[]? names, int firstNameValue)
    {
        if (IsNumber(text))
        {
            var number = Number(text);
            return number >= min && number <= max ? number : throw new FormatException($"{text} out of range {min}-{max}");
        }

        var index = names is null ? -1 : Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
        return index >= 0 ? index + firstNameValue : throw new FormatException($"'{text}'");
    }

    private static bool IsNumber(string text) => text.Length is > 0 and < 5 && text.All(char.IsAsciiDigit);

    private static int Number(string text) =>
        IsNumber(text) ? int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) : throw new FormatException($"'{text}' is not a number");
}
