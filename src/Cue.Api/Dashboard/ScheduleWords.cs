using System.Globalization;

namespace Cue.Api.Dashboard;

/// <summary>
/// A cue's schedule in plain English, for people reading the dashboard: "at 09:00 on Monday–Friday".
/// Covers the contract's cron forms (§6.1); shapes it has no short phrase for fall back to describing
/// each field, so the words are never wrong, only longer. The cron itself is always shown beside them.
/// </summary>
public static class ScheduleWords
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    private static readonly string[] Months = ["", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    private static readonly string[] MonthNames = ["", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

    public static string Describe(string type, string? cron, string? at, string timezone)
    {
        if (type == "once")
        {
            return at is null ? "once" : $"once, at {Times.Display(at)}";
        }

        var words = cron is null ? "on a cron schedule" : Cron(cron);
        return timezone == "UTC" ? words + " (UTC)" : $"{words} ({timezone} time)";
    }

    public static string Cron(string expression)
    {
        var text = expression.Trim().ToLowerInvariant() switch
        {
            "@yearly" or "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" or "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            var other => other,
        };
        var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            return "on the cron schedule " + expression;
        }

        var (minute, hour, dom, month, dow) = (fields[0], fields[1], fields[2], fields[3].ToUpperInvariant(), fields[4].ToUpperInvariant());
        var time = TimeOfDay(minute, hour);
        var parts = new List<string> { time };
        var days = DaysPart(dom, dow);
        // "every 5 minutes" needs no "every day"; "at 09:00" does.
        if (days is not null && !(days == "every day" && !time.StartsWith("at ", StringComparison.Ordinal)))
        {
            parts.Add(days);
        }

        if (month != "*")
        {
            parts.Add("in " + Field(month, Months, MonthNames, "month"));
        }

        return string.Join(' ', parts);
    }

    private static string TimeOfDay(string minute, string hour)
    {
        var minutes = Numbers(minute);
        var hours = Numbers(hour);
        if (minutes is { Count: > 0 } && hours is { Count: > 0 } && minutes.Count * hours.Count <= 6)
        {
            return "at " + string.Join(", ", hours.SelectMany(h => minutes.Select(m => string.Create(CultureInfo.InvariantCulture, $"{h:00}:{m:00}"))));
        }

        var every = minute switch
        {
            "*" => "every minute",
            _ when minute.StartsWith("*/", StringComparison.Ordinal) => $"every {minute[2..]} minutes",
            _ when minutes is [0] => "on the hour",
            _ when minutes is { Count: > 0 } => "at minute " + string.Join(", ", minutes) + " past the hour",
            _ => "at minutes " + minute,
        };
        return hour switch
        {
            "*" when minutes is [0] => "every hour, on the hour",
            "*" when minutes is { Count: > 0 } => $"every hour at minute {string.Join(", ", minutes)}",
            "*" => every,
            _ when hour.StartsWith("*/", StringComparison.Ordinal) => $"{every}, every {hour[2..]} hours",
            _ => $"{every}, during hour {Field(hour, null, null, "hour")}",
        };
    }

    private static string? DaysPart(string dom, string dow)
    {
        var domWords = dom switch
        {
            "*" => null,
            _ when dom.StartsWith("*/", StringComparison.Ordinal) => Field(dom, null, null, "day") + " of the month",
            _ => "on day " + Field(dom, null, null, "day") + " of the month",
        };
        var dowWords = dow == "*" ? null : "on " + Field(dow, Days, DayNames, "weekday");
        return (domWords, dowWords) switch
        {
            (null, null) => "every day",
            (null, { } w) => w,
            ({ } d, null) => d,
            // §6.1's day rule: with both restricted (neither starting with '*'), either one matching is enough.
            ({ } d, { } w) when !dom.StartsWith('*') && !dow.StartsWith('*') => $"{d} or {w}",
            ({ } d, { } w) => $"{d} and {w}",
        };
    }

    /// <summary>A field's values as words: "Monday–Friday", "1, 15", "every 2nd hour from 0".</summary>
    private static string Field(string field, string[]? words, string[]? names, string unit)
    {
        var items = field.Split(',').Select(item =>
        {
            var (range, step) = item.Split('/') is [var r, var s] ? (r, s) : (item, null);
            string Word(string value) => Name(value, words, names);
            var span = range == "*" ? $"every {unit}" : range.Split('-') is [var a, var b] ? $"{Word(a)}–{Word(b)}" : Word(range);
            return (range, step) switch
            {
                (_, null or "1") => span,
                ("*", _) => $"every {Ordinal(step)} {unit}",
                _ => $"every {Ordinal(step)} {unit} of {span}",
            };
        });
        return string.Join(", ", items);
    }

    private static string Name(string value, string[]? words, string[]? names)
    {
        if (words is null)
        {
            return value;
        }

        var index = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : Array.IndexOf(names!, value);
        return index >= 0 && index < words.Length && words[index].Length > 0 ? words[index] : value;
    }

    private static string Ordinal(string step) => step switch
    {
        "2" => "2nd",
        "3" => "3rd",
        _ => step + "th",
    };

    /// <summary>The field's values when it is a plain number or a comma list of them; otherwise null.</summary>
    private static List<int>? Numbers(string field)
    {
        var values = new List<int>();
        foreach (var item in field.Split(','))
        {
            if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            values.Add(value);
        }

        return values;
    }
}

/// <summary>How the dashboard shows the API's timestamps and durations.</summary>
public static class Times
{
    /// <summary>A wire timestamp as "2026-03-20 16:00:00 UTC" (milliseconds kept when there are any).</summary>
    public static string Display(string? wire)
    {
        if (wire is null || !DateTimeOffset.TryParse(wire, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            return wire ?? "—";
        }

        var utc = instant.UtcDateTime;
        return utc.ToString(utc.Millisecond == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + " UTC";
    }

    public static string Duration(double milliseconds) => Math.Abs(milliseconds) switch
    {
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{milliseconds:0} ms"),
        < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 1000:0.0} s"),
        < 3_600_000 => string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 60_000:0.0} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 3_600_000:0.0} h"),
    };
}
