namespace Cue.Contracts.Messages;

/// <summary>
/// Sent by the scheduler when the catch-up policy (§6.4) records an occurrence as missed instead of
/// delivering it. The API appends the missed execution. Ids and times only.
/// </summary>
public sealed record OccurrenceMissed(Guid ExecutionId, string CueId, DateTimeOffset ScheduledFor, string Reason);

/// <summary>Sent by the scheduler when a catch-up dropped occurrences beyond the cap (§6.4), for the cue's warning.</summary>
public sealed record CatchUpCapped(string CueId, int Dropped, DateTimeOffset DroppedUntil, DateTimeOffset At);
