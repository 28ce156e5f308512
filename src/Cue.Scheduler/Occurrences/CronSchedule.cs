using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Cronos;

namespace Cue.Scheduler.Occurrences;

/// <summary>
/// A 5-field cron schedule with the grammar of contract §6.1 and the time zone rules of §6.2.
/// </summary>
/// <remarks>
/// The grammar is checked here, because Cronos also accepts what the contract rejects (<c>L</c>, <c>W</c>,
/// <c>#</c>, <c>?</c>, reversed ranges). Cronos then receives a normalised expression with explicit value
/// lists and serves as a calendar only: it finds the next matching wall-clock time, with no time zone. Day OR
/// rule: Cronos always ANDs day-of-month and day-of-week, so under the OR rule two expressions are evaluated
/// (one per day field) and the earlier wall-clock time wins.
/// <para>
/// Wall-clock times become instants here, with §6.2's rules, from the UTC offsets of instants alone
/// (<see cref="TimeZones.FirstInstantShowing"/>). Cronos's own time zone arithmetic is not used: it relies on
/// TimeZoneInfo's wall-clock queries (IsInvalidTime, IsAmbiguousTime, GetUtcOffset of a local time), which
/// misread zones with negative DST such as Europe/Dublin and Africa/Casablanca, so their gaps and repeated hours
/// went unnoticed and occurrences could even go backwards in time.
/// </para>
/// </remarks>
public sealed class CronSchedule
{
    public const int MaxLength = 100;

    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private static readonly Field[] Fields =
    [
        new("minute", 0, 59, null, 0),
        new("hour", 0, 23, null, 0),
        new("day-of-month", 1, 31, null, 0),
        new("month", 1, 12, MonthNames, 1),
        new("day-of-week", 0, 7, DayNames, 0),
    ];

    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private readonly CronExpression _rule;
    private readonly CronExpression? _dayOfWeekRule;
    private readonly bool _firesInBothPasses;

    private CronSchedule(string expression, CronExpression rule, CronExpression? dayOfWeekRule, bool firesInBothPasses)
    {
        Expression = expression;
        _rule = rule;
        _dayOfWeekRule = dayOfWeekRule;
        _firesInBothPasses = firesInBothPasses;
    }

    /// <summary>The expression as given, without leading or trailing spaces and tabs.</summary>
    public string Expression { get; }

    /// <summary>
    /// Checks the grammar of §6.1. Whether the schedule ever fires depends on the time zone: check that with
    /// <see cref="HasOccurrenceWithin"/>.
    /// </summary>
    public static bool TryParse(string expression, [NotNullWhen(true)] out CronSchedule? schedule, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(expression);
        schedule = null;
        if (expression.Length > MaxLength)
        {
            error = $"cron expression is longer than {MaxLength} characters";
            return false;
        }

        var trimmed = expression.Trim(' ', '\t');
        var fieldsText = trimmed;
        if (trimmed.StartsWith('@'))
        {
            if (trimmed.Equals("@reboot", StringComparison.OrdinalIgnoreCase))
            {
                error = "@reboot is not supported";
                return false;
            }

            if (!Macros.TryGetValue(trimmed, out var expanded))
            {
                error = $"unknown macro '{trimmed}'";
                return false;
            }

            fieldsText = expanded;
        }

        foreach (var c in fieldsText)
        {
            if (c is '?' or '#')
            {
                error = $"'{c}' is not supported";
                return false;
            }

            if (!(char.IsAsciiLetterOrDigit(c) || c is '*' or ',' or '-' or '/' or ' ' or '\t'))
            {
                error = $"unexpected character '{c}'";
                return false;
            }
        }

        var parts = fieldsText.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != Fields.Length)
        {
            error = parts.Length is 6 or 7
                ? "cron has 5 fields (minute hour day-of-month month day-of-week); seconds and year fields are not supported"
                : $"cron has 5 fields (minute hour day-of-month month day-of-week), not {parts.Length}";
            return false;
        }

        var values = new ulong[Fields.Length];
        for (var i = 0; i < Fields.Length; i++)
        {
            if (!TryParseField(parts[i], Fields[i], out values[i], out error))
            {
                return false;
            }
        }

        // Sunday may be written 0 or 7.
        var dayOfWeek = values[4];
        if ((dayOfWeek & (1UL << 7)) != 0)
        {
            dayOfWeek = (dayOfWeek & ~(1UL << 7)) | 1UL;
        }

        var minute = List(values[0], 0, 59);
        var hour = RepeatsEveryFewHours(parts[1]) ? parts[1] : List(values[1], 0, 23);
        var dayOfMonth = List(values[2], 1, 31);
        var month = List(values[3], 1, 12);
        var weekday = List(dayOfWeek, 0, 6);
        var dayOr = !parts[2].StartsWith('*') && !parts[4].StartsWith('*');

        try
        {
            var rule = CronExpression.Parse(
                dayOr ? $"{minute} {hour} {dayOfMonth} {month} *" : $"{minute} {hour} {dayOfMonth} {month} {weekday}",
                CronFormat.Standard);
            var dayOfWeekRule = dayOr ? CronExpression.Parse($"{minute} {hour} * {month} {weekday}", CronFormat.Standard) : null;
            schedule = new CronSchedule(trimmed, rule, dayOfWeekRule, RepeatsEveryFewHours(parts[1]));
        }
        catch (CronFormatException)
        {
            error = "invalid cron expression";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>The first occurrence strictly after <paramref name="afterExclusive"/>, as a UTC instant; null if none.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset afterExclusive, TimeZoneInfo zone)
    {
        var first = NextFirstShowing(afterExclusive, zone);
        return _firesInBothPasses && NextSecondPass(afterExclusive, zone) is { } repeat && (first is null || repeat < first)
            ? repeat
            : first;
    }

    /// <summary>
    /// The first instant after <paramref name="after"/> at which the clock first shows a matching wall-clock time
    /// (for a time a forward jump skips: the instant of the jump, so a whole gap and the time it lands on fire once).
    /// </summary>
    private DateTimeOffset? NextFirstShowing(DateTimeOffset after, TimeZoneInfo zone)
    {
        // The instant at which a wall-clock time is first shown grows with the wall-clock time, so the first
        // matching time whose first showing lies after `after` gives the answer. Matching times skipped here
        // were first shown before `after`: it is in the second pass of a repeated hour.
        var wall = TimeZones.WallClock(after, zone);
        while (NextWallClock(wall, inclusive: false) is { } next)
        {
            var first = TimeZones.FirstInstantShowing(next, zone);
            if (first > after)
            {
                return first;
            }

            wall = next;
        }

        return null;
    }

    /// <summary>
    /// For an hour field of <c>*</c> or <c>*/s</c>: the first instant after <paramref name="after"/> at which the
    /// clock shows a matching wall-clock time for the second time, in the repeated hour of a nearby fall-back.
    /// </summary>
    private DateTimeOffset? NextSecondPass(DateTimeOffset after, TimeZoneInfo zone)
    {
        // Only a fall-back around `after` can hold the answer: in a later one each wall-clock time is shown first
        // before it is shown again, and NextFirstShowing already finds that first showing.
        if (TimeZones.FallBackNear(after, zone) is not { } fallBack)
        {
            return null;
        }

        var (instant, offsetBefore, offsetAfter) = fallBack;
        var repeatedFrom = new DateTime(instant.UtcTicks + offsetAfter.Ticks, DateTimeKind.Unspecified);
        var repeatedUntil = new DateTime(instant.UtcTicks + offsetBefore.Ticks, DateTimeKind.Unspecified);
        var afterInSecondPass = new DateTime(after.UtcTicks + offsetAfter.Ticks, DateTimeKind.Unspecified);
        var next = afterInSecondPass >= repeatedFrom
            ? NextWallClock(afterInSecondPass, inclusive: false)
            : NextWallClock(repeatedFrom, inclusive: true);
        return next is { } wall && wall < repeatedUntil
            ? new DateTimeOffset(wall.Ticks - offsetAfter.Ticks, TimeSpan.Zero)
            : null;
    }

    /// <summary>The next matching wall-clock time, by the calendar alone.</summary>
    private DateTime? NextWallClock(DateTime wall, bool inclusive)
    {
        // Cronos computes a zone-less calendar on UTC-kind values; the value is a wall-clock time all the same.
        // It reads only whole seconds, so a time within a second is floored, and the floored second excluded.
        var from = DateTime.SpecifyKind(wall, DateTimeKind.Utc);
        if (from.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            from = from.AddTicks(-(from.Ticks % TimeSpan.TicksPerSecond));
            inclusive = false;
        }

        var next = _rule.GetNextOccurrence(from, inclusive);
        if (_dayOfWeekRule?.GetNextOccurrence(from, inclusive) is { } byWeekday && (next is null || byWeekday < next))
        {
            next = byWeekday;
        }

        return next is { } found ? DateTime.SpecifyKind(found, DateTimeKind.Unspecified) : null;
    }

    /// <summary>Occurrences in (<paramref name="fromExclusive"/>, <paramref name="toInclusive"/>], ascending, as UTC instants.</summary>
    public IEnumerable<DateTimeOffset> Between(DateTimeOffset fromExclusive, DateTimeOffset toInclusive, TimeZoneInfo zone)
    {
        var cursor = fromExclusive;
        while (NextAfter(cursor, zone) is { } next && next <= toInclusive)
        {
            yield return next;
            cursor = next;
        }
    }

    /// <summary>Whether the schedule fires after <paramref name="from"/> and no later than <paramref name="horizon"/> after it.</summary>
    public bool HasOccurrenceWithin(DateTimeOffset from, TimeSpan horizon, TimeZoneInfo zone) =>
        NextAfter(from, zone) is { } next && next - from <= horizon;

    public override string ToString() => Expression;

    // §6.2: only an hour field of * or */s keeps firing through the second pass of a repeated hour.
    private static bool RepeatsEveryFewHours(string hourField) =>
        hourField == "*" || (hourField.StartsWith("*/", StringComparison.Ordinal) && !hourField.Contains(','));

    private static bool TryParseField(string text, Field field, out ulong values, [NotNullWhen(false)] out string? error)
    {
        values = 0;
        foreach (var element in text.Split(','))
        {
            if (element.Length == 0)
            {
                error = $"{field.Name}: empty list element in '{text}'";
                return false;
            }

            var slash = element.IndexOf('/', StringComparison.Ordinal);
            var range = slash < 0 ? element : element[..slash];
            var step = 1;
            if (slash >= 0)
            {
                var stepText = element[(slash + 1)..];
                if (!IsDigits(stepText) || !int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step))
                {
                    error = $"{field.Name}: invalid step in '{element}'";
                    return false;
                }

                if (step == 0)
                {
                    error = $"{field.Name}: step 0 in '{element}'";
                    return false;
                }

                if (step > field.Max)
                {
                    error = $"{field.Name}: step {step} is larger than {field.Max}";
                    return false;
                }
            }

            int low, high;
            if (range == "*")
            {
                (low, high) = (field.Min, field.Max);
            }
            else
            {
                var dash = range.IndexOf('-', StringComparison.Ordinal);
                if (!TryValue(dash < 0 ? range : range[..dash], field, out low, out error))
                {
                    return false;
                }

                if (dash < 0)
                {
                    // a/s means a-max/s.
                    high = slash < 0 ? low : field.Max;
                }
                else
                {
                    if (!TryValue(range[(dash + 1)..], field, out high, out error))
                    {
                        return false;
                    }

                    if (low > high)
                    {
                        error = $"{field.Name}: reversed range '{range}'";
                        return false;
                    }
                }
            }

            for (var value = low; value <= high; value += step)
            {
                values |= 1UL << value;
            }
        }

        error = null;
        return true;
    }

    private static bool TryValue(string text, Field field, out int value, [NotNullWhen(false)] out string? error)
    {
        value = 0;
        if (IsDigits(text))
        {
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= field.Min && value <= field.Max)
            {
                error = null;
                return true;
            }

            error = $"{field.Name}: {text} is out of range {field.Min}-{field.Max}";
            return false;
        }

        if (field.Names is { } names)
        {
            var index = Array.FindIndex(names, name => name.Equals(text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                value = index + field.FirstNameValue;
                error = null;
                return true;
            }
        }

        var upper = text.ToUpperInvariant();
        error = upper.Length > 0 && (upper == "L" || upper == "LW" || (upper.Length > 1 && upper[^1] is 'L' or 'W' && IsDigits(upper[..^1])))
            ? "'L' and 'W' are not supported"
            : $"{field.Name}: '{text}' is not a valid value";
        return false;
    }

    private static bool IsDigits(string text) => text.Length > 0 && !text.AsSpan().ContainsAnyExceptInRange('0', '9');

    private static string List(ulong values, int min, int max)
    {
        var all = true;
        var listed = new List<int>();
        for (var value = min; value <= max; value++)
        {
            if ((values & (1UL << value)) != 0)
            {
                listed.Add(value);
            }
            else
            {
                all = false;
            }
        }

        return all ? "*" : string.Join(',', listed);
    }

    private sealed record Field(string Name, int Min, int Max, string[]? Names, int FirstNameValue);
}
