namespace Cue.Scheduler.DueIndex;

/// <summary>One claimed row of the due index.</summary>
public sealed record DueEntry(
    string Id,
    string CueId,
    short Kind,
    DateTimeOffset DueAt,
    Guid? ExecutionId,
    int Attempt,
    string TriggeredBy,
    DateTimeOffset? ScheduledFor,
    string? ScheduleType,
    string? Cron,
    string? Timezone,
    string? CatchUp,
    long CueVersion);

/// <summary>What to do with a claimed row once its message is on the bus.</summary>
public abstract record Advance(DueEntry Entry)
{
    /// <summary>Move a recurring cue's row to its next occurrence.</summary>
    public sealed record MoveTo(DueEntry Entry, DateTimeOffset NextDueAt) : Advance(Entry);

    /// <summary>Remove the row: a once cue fired, a retry was sent, or a schedule has no further occurrence.</summary>
    public sealed record Remove(DueEntry Entry) : Advance(Entry);
}
