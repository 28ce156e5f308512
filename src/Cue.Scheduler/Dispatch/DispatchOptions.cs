using System.ComponentModel.DataAnnotations;

namespace Cue.Scheduler.Dispatch;

/// <summary>Tuning of the dispatch job. Bound to the <c>Dispatch</c> section.</summary>
public sealed class DispatchOptions
{
    public const string Section = "Dispatch";

    /// <summary>How often Quartz fires the dispatch job.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How far ahead a claim reaches; claimed entries are sent at their exact due instant.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan Lookahead { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a claim is held before another node may take it over (a crashed node's claims).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one publish may wait for the broker's confirm. A publish caught by a broker outage can otherwise
    /// wait for a confirm that never comes, and hold every later fire behind it; past this, the row is released
    /// and claimed again (the same execution id, so a late confirm of the first publish is harmless).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>An occurrence is missed when it could not start within this long of its due time (contract §6.4).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MissedAfter { get; set; } = TimeSpan.FromSeconds(60);
}
