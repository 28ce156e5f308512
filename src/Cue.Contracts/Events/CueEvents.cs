namespace Cue.Contracts.Events;

public sealed record CueSchedule(string Type, string? Cron, DateTimeOffset? At, string Timezone);

/// <summary>The callback: <paramref name="Url"/> sealed, and the headers sealed together as one JSON object (names included).</summary>
public sealed record CueCallback(Sealed Url, string Method, Sealed Headers);

public sealed record CueRetry(int MaxAttempts, IReadOnlyList<int> BackoffMinutes);

public sealed record CueOnFailure(bool Email, Sealed? Webhook, bool Pause);

/// <summary>
/// A cue was accepted. <paramref name="Payload"/> is the canonical JSON text of the payload object, sealed
/// like the description, the callback and the failure webhook (name, schedule and policies stay clear: they
/// are operational, and the name is unique per account);
/// <paramref name="NextRunAt"/> is the first occurrence decided at creation, so replaying the event
/// rebuilds the same due-index entry without consulting a clock.
/// </summary>
public sealed record CueCreated(
    string CueId,
    Guid AccountId,
    string AccountMode,
    string Name,
    Sealed? Description,
    CueSchedule Schedule,
    CueCallback Callback,
    Sealed Payload,
    CueRetry Retry,
    int TimeoutSeconds,
    string CatchUp,
    CueOnFailure OnFailure,
    string VerificationMode,
    DateTimeOffset? NextRunAt,
    DateTimeOffset CreatedAt);

/// <summary>
/// A PATCH changed the cue. Carries the whole resulting configuration (not a diff) and its status. When
/// the schedule or status changed, <paramref name="Rescheduled"/> is set and <paramref name="NextRunAt"/> is
/// the next occurrence decided at update time (null: none, e.g. paused); otherwise the cue keeps its place
/// in the due index. Replaying the log rebuilds the views and the due index without a clock.
/// </summary>
public sealed record CueUpdated(
    string CueId,
    Guid AccountId,
    string Name,
    Sealed? Description,
    CueSchedule Schedule,
    CueCallback Callback,
    Sealed Payload,
    CueRetry Retry,
    int TimeoutSeconds,
    string CatchUp,
    CueOnFailure OnFailure,
    string VerificationMode,
    string Status,
    bool Rescheduled,
    DateTimeOffset? NextRunAt,
    DateTimeOffset UpdatedAt);

/// <summary>The cue was deleted: it leaves the views and the due index; its executions stay in the audit log.</summary>
public sealed record CueDeleted(string CueId, Guid AccountId, DateTimeOffset DeletedAt);

/// <summary>A once cue's scheduled execution succeeded (§6.3).</summary>
public sealed record CueCompleted(string CueId, Guid ExecutionId, DateTimeOffset CompletedAt);

/// <summary>A once cue's scheduled execution failed finally or was missed under <c>skip_missed</c> (§6.3).</summary>
public sealed record CueFailed(string CueId, Guid ExecutionId, DateTimeOffset FailedAt);

/// <summary>A recurring cue with <c>on_failure.pause</c> was paused after an execution failed finally.</summary>
public sealed record CuePausedAfterFailure(string CueId, Guid ExecutionId, DateTimeOffset PausedAt);

/// <summary>A catch-up produced more occurrences than the cap; the oldest were dropped (the cue's <c>warning</c>).</summary>
public sealed record CatchUpTruncated(string CueId, int Dropped, DateTimeOffset DroppedUntil, DateTimeOffset At);
