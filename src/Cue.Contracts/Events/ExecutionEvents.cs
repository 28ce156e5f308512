namespace Cue.Contracts.Events;

/// <summary>An execution exists: the first event of its stream, carrying the payload snapshot it delivers.</summary>
public sealed record ExecutionCreated(
    Guid ExecutionId,
    string CueId,
    Guid AccountId,
    string CueName,
    DateTimeOffset ScheduledFor,
    string TriggeredBy,
    string Payload,
    DateTimeOffset CreatedAt);

/// <summary>One delivery attempt finished (or was refused). Appended once per (execution, attempt).</summary>
public sealed record AttemptRecorded(
    Guid ExecutionId,
    string CueId,
    int Attempt,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Result,
    int? HttpStatus,
    string? ErrorMessage,
    string? ResponseBody,
    string? RemoteAddress,
    int? RetryAfterSeconds,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset ScheduledFor,
    string TriggeredBy);
