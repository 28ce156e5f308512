namespace Cue.Contracts.Messages;

/// <summary>
/// Published by the delivery worker after every attempt, successful or not. The API appends it to the
/// execution's event stream (idempotently on execution and attempt number). The receiver's response
/// body never travels here: the worker stores it for the API to pick up (<c>cue.attempt_responses</c>).
/// <c>CueVersion</c> is the version of the cue whose payload the attempt sent when no execution snapshot
/// existed yet (a scheduled execution's first attempt), so the API records exactly that payload.
/// </summary>
public sealed record DeliveryAttempted(
    Guid ExecutionId,
    string CueId,
    DateTimeOffset ScheduledFor,
    string TriggeredBy,
    int Attempt,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Result,
    int? HttpStatus,
    string? ErrorMessage,
    string? RemoteAddress,
    int? RetryAfterSeconds,
    DateTimeOffset? NextAttemptAt,
    long? CueVersion = null);
