using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Cue.Scheduler.Occurrences;

/// <summary>IANA time zones (contract §5.2 <c>schedule.timezone</c>, §6.2).</summary>
public static class TimeZones
{
    // Case-insensitive id → canonical spelling. Built from the tz database's own list (zones and links) rather than
    // from what FindSystemTimeZoneById happens to open: that also opens Windows ids (by conversion) and files
    // such as "localtime", "posixrules" or "right/UTC" that are not zone ids.
    private static readonly Lazy<FrozenDictionary<string, string>> CanonicalIds = new(LoadCanonicalIds);

    public static bool TryFind(string id, [NotNullWhen(true)] out TimeZoneInfo? zone, [NotNullWhen(true)] out string? canonicalId)
    {
        zone = null;
        canonicalId = null;
        if (string.IsNullOrEmpty(id) || !CanonicalIds.Value.TryGetValue(id, out var canonical))
        {
            return false;
        }

        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(canonical);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return false;
        }

        canonicalId = canonical;
        return true;
    }

    /// <summary>
    /// The instant of a wall-clock time without offset (contract §6.2 <c>schedule.at</c>): a time skipped by a
    /// forward jump maps to the transition instant, a repeated time to its first (earlier) instant. Result in UTC.
    /// </summary>
    public static DateTimeOffset ResolveLocal(DateTime localUnspecified, TimeZoneInfo zone) =>
        FirstInstantShowing(DateTime.SpecifyKind(localUnspecified, DateTimeKind.Unspecified), zone);

    /// <summary>The wall-clock time shown in <paramref name="zone"/> at <paramref name="instant"/>.</summary>
    internal static DateTime WallClock(DateTimeOffset instant, TimeZoneInfo zone) =>
        new(instant.UtcTicks + zone.GetUtcOffset(instant).Ticks, DateTimeKind.Unspecified);

    /// <summary>
    /// The first instant at which the clock shows <paramref name="wall"/>; for a time skipped by a forward jump, the
    /// instant of the jump. Result in UTC.
    /// </summary>
    /// <remarks>
    /// Only the UTC offsets of instants are asked for. TimeZoneInfo's wall-clock queries (IsInvalidTime,
    /// IsAmbiguousTime, GetUtcOffset of a local time) misread zones with negative DST such as Europe/Dublin and
    /// Africa/Casablanca: they see neither the gap nor the repeated hour there.
    /// </remarks>
    internal static DateTimeOffset FirstInstantShowing(DateTime wall, TimeZoneInfo zone)
    {
        // Any instant that shows the wall-clock time is within 14 hours of it. The tz database has no two changes
        // of one zone within 52 hours in the years Cue schedules for, so only the offsets 26 hours either side can
        // show it; when both do (a repeated time), the larger offset shows it earlier.
        var asUtc = new DateTimeOffset(wall.Ticks, TimeSpan.Zero);
        var earlier = zone.GetUtcOffset(asUtc.AddHours(-26));
        var later = zone.GetUtcOffset(asUtc.AddHours(26));
        foreach (var offset in earlier > later ? [earlier, later] : new[] { later, earlier })
        {
            var instant = new DateTimeOffset(wall.Ticks - offset.Ticks, TimeSpan.Zero);
            if (zone.GetUtcOffset(instant) == offset)
            {
                return instant;
            }
        }

        return TransitionSkipping(wall, zone);
    }

    /// <summary>
    /// A fall-back (the offset drops, so wall-clock times repeat) within 26 hours of <paramref name="instant"/>
    /// whose repeated stretch has not ended by it: the instant of the change and the offsets before and after.
    /// </summary>
    internal static (DateTimeOffset Instant, TimeSpan OffsetBefore, TimeSpan OffsetAfter)? FallBackNear(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var start = instant.AddHours(-26);
        var end = instant.AddHours(26);
        var before = zone.GetUtcOffset(start);
        var after = zone.GetUtcOffset(end);
        if (before <= after)
        {
            return null;
        }

        var change = FirstInstantWithOffset(zone, start, end, after);
        return change + (before - after) > instant ? (change, before, after) : null;
    }

    /// <summary>The instant at which the clock jumps over the nonexistent wall-clock time <paramref name="local"/>.</summary>
    internal static DateTimeOffset TransitionSkipping(DateTime local, TimeZoneInfo zone)
    {
        // The jump happens within a few hours of local − base offset; scan a day either side hourly and pin
        // each offset change down to the tick.
        var guess = new DateTimeOffset(local.Ticks - zone.BaseUtcOffset.Ticks, TimeSpan.Zero);
        var probe = guess.AddDays(-1);
        var end = guess.AddDays(1);
        var offset = zone.GetUtcOffset(probe);
        while (probe < end)
        {
            var next = probe.AddHours(1);
            var nextOffset = zone.GetUtcOffset(next);
            if (nextOffset != offset)
            {
                var transition = FirstInstantWithOffset(zone, probe, next, nextOffset);
                var before = zone.GetUtcOffset(transition.AddTicks(-1));
                var after = zone.GetUtcOffset(transition);
                if (local.Ticks >= transition.Ticks + before.Ticks && local.Ticks < transition.Ticks + after.Ticks)
                {
                    return transition;
                }
            }

            probe = next;
            offset = nextOffset;
        }

        throw new InvalidOperationException($"No clock change skips {local:s} in {zone.Id}.");
    }

    private static DateTimeOffset FirstInstantWithOffset(TimeZoneInfo zone, DateTimeOffset before, DateTimeOffset after, TimeSpan offset)
    {
        // Invariant: the offset at `before` differs, the offset at `after` is `offset`.
        while (after.Ticks - before.Ticks > 1)
        {
            var middle = new DateTimeOffset(before.Ticks + ((after.Ticks - before.Ticks) / 2), TimeSpan.Zero);
            if (zone.GetUtcOffset(middle) == offset)
            {
                after = middle;
            }
            else
            {
                before = middle;
            }
        }

        return after;
    }

    private static FrozenDictionary<string, string> LoadCanonicalIds()
    {
        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var zone in TimeZoneInfo.GetSystemTimeZones())
        {
            if (zone.HasIanaId)
            {
                ids.TryAdd(zone.Id, zone.Id);
            }
        }

        // tzdata.zi lists every zone ("Z name …") and link ("L target name"), including backward-compatible
        // names such as Etc/UTC, US/Eastern and Asia/Calcutta that the system list above leaves out.
        var directory = Environment.GetEnvironmentVariable("TZDIR") is { Length: > 0 } tzdir ? tzdir : "/usr/share/zoneinfo";
        var zi = Path.Combine(directory, "tzdata.zi");
        if (File.Exists(zi))
        {
            foreach (var line in File.ReadLines(zi))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields is ["Z", var zoneName, ..])
                {
                    ids.TryAdd(zoneName, zoneName);
                }
                else if (fields is ["L", _, var linkName, ..])
                {
                    ids.TryAdd(linkName, linkName);
                }
            }
        }

        // "Factory" is a placeholder zone with no real offset ("-00").
        ids.Remove("Factory");
        return ids.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
