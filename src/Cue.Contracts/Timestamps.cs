using System.Globalization;

namespace Cue.Contracts;

/// <summary>The contract's one output format for instants: RFC 3339 UTC with milliseconds.</summary>
public static class Timestamps
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string ToWire(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    /// <summary>Truncates to whole milliseconds, the precision the contract keeps.</summary>
    public static DateTimeOffset TruncateToMilliseconds(DateTimeOffset instant) =>
        new(instant.UtcTicks - instant.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
}
