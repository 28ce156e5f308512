namespace Cue.Contracts.Events;

/// <summary>
/// An execution exists: the first event of its stream, carrying the payload snapshot it delivers.
/// Manual fires and replays start <c>pending</c> and enter the due index at <paramref name="ScheduledFor"/>;
/// scheduled executions are created by their first attempt (or as missed).
/// </summary>
public sealed record ExecutionCreated(
    Guid ExecutionId,
    string CueId,
    Guid AccountId,
    string CueName,
    DateTimeOffset ScheduledFor,
    string TriggeredBy,
    Sealed Payload,
    DateTimeOffset CreatedAt,
    Guid? ReplayedFrom = null,
    string? IdempotencyKey = null);

/// <summary>An occurrence was not delivered: skipped by the catch-up policy (or a limit). Final, no attempt.</summary>
public sealed record ExecutionMissed(Guid ExecutionId, string CueId, string Reason, DateTimeOffset MissedAt);

/// <summary>The cue was deleted while this execution waited (pending or retrying). Final.</summary>
public sealed record ExecutionCancelled(Guid ExecutionId, string CueId, DateTimeOffset CancelledAt);

/// <summary>
/// The receiver's report (§5.3 outcome, or a 2xx body with a boolean <c>success</c>, §9.5), written once.
/// JSON-valued fields hold canonical JSON text. The receiver's text is sealed; <paramref name="ResultType"/>
/// and the states stay clear, because the execution list filters on them. <paramref name="OutcomeState"/> and
/// <paramref name="ValidationState"/> are the decision taken when it was recorded (§7.3).
/// </summary>
public sealed record OutcomeRecorded(
    Guid ExecutionId,
    bool Success,
    Sealed? Result,
    Sealed? Error,
    Sealed? Metadata,
    Sealed? ExternalId,
    Sealed? ResultUrl,
    Sealed? ResultRef,
    string? ResultType,
    Sealed? Summary,
    Sealed? Artifacts,
    string OutcomeState,
    string? ValidationState,
    string Source,
    DateTimeOffset RecordedAt);

/// <summary>A verify or verification-pending call moved the outcome state (§7.3).</summary>
public sealed record VerificationChanged(
    Guid ExecutionId,
    string OutcomeState,
    string? ValidationState,
    Sealed? Summary,
    DateTimeOffset ChangedAt);

/// <summary>Evidence was added or overwritten after the outcome (§5.3); null fields were not given.</summary>
public sealed record EvidenceUpdated(
    Guid ExecutionId,
    Sealed? ExternalId,
    Sealed? ResultUrl,
    Sealed? ResultRef,
    string? ResultType,
    Sealed? Summary,
    Sealed? Artifacts,
    string OutcomeState,
    string? ValidationState,
    DateTimeOffset UpdatedAt);

/// <summary>A delivery attempt began (the execution is <c>delivering</c> until its <see cref="AttemptRecorded"/>).</summary>
public sealed record AttemptStarted(Guid ExecutionId, int Attempt, DateTimeOffset StartedAt);

/// <summary>
/// One delivery attempt finished (or was refused). Appended once per (execution, attempt). The receiver's
/// response snippet is sealed; <paramref name="ErrorMessage"/> is Cue's own wording (status, network error),
/// which also crosses the bus, so it stays clear.
/// </summary>
public sealed record AttemptRecorded(
    Guid ExecutionId,
    string CueId,
    int Attempt,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Result,
    int? HttpStatus,
    string? ErrorMessage,
    Sealed? ResponseBody,
    string? RemoteAddress,
    int? RetryAfterSeconds,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset ScheduledFor,
    string TriggeredBy);
