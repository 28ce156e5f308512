using System.Globalization;
using System.Text.RegularExpressions;
using Cue.Scheduler.Occurrences;

namespace Cue.Api.Cues;

/// <summary>Timestamp input of contract §1: RFC 3339 / ISO 8601 with 'T' or a space, any fraction (kept to ms), Z or ±hh:mm.</summary>
public static partial class WireTime
{
    [GeneratedRegex(@"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?$")]
    private static partial Regex Pattern();

    /// <summary>Parses an instant; a value without an offset is read as local time in <paramref name="zone"/> (§6.2).</summary>
    public static bool TryParse(string text, TimeZoneInfo zone, out DateTimeOffset instant)
    {
        instant = default;
        var match = Pattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        int Part(int i) => int.Parse(match.Groups[i].Value, CultureInfo.InvariantCulture);
        var fraction = match.Groups[7].Success ? match.Groups[7].Value : "";
        var millis = fraction.Length == 0 ? 0 : int.Parse(fraction.PadRight(3, '0')[..3], CultureInfo.InvariantCulture);
        DateTime local;
        try
        {
            local = new DateTime(Part(1), Part(2), Part(3), Part(4), Part(5), Part(6), millis, DateTimeKind.Unspecified);
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }

        if (!match.Groups[8].Success)
        {
            instant = TimeZones.ResolveLocal(local, zone);
            return true;
        }

        var offsetText = match.Groups[8].Value;
        var offset = offsetText is "Z" or "z"
            ? TimeSpan.Zero
            : new TimeSpan(int.Parse(offsetText[1..3], CultureInfo.InvariantCulture), int.Parse(offsetText[4..6], CultureInfo.InvariantCulture), 0) * (offsetText[0] == '-' ? -1 : 1);
        if (offset.Duration() > TimeSpan.FromHours(14))
        {
            return false;
        }

        instant = new DateTimeOffset(local, offset).ToUniversalTime();
        return true;
    }
}
