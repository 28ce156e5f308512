namespace Cue.Contracts.Messages;

/// <summary>
/// An execution of a cue with an <c>on_failure.webhook</c> failed finally: the delivery worker posts the
/// <c>cue.failed</c> notice (§9.5). Ids, times and the last attempt's classification only; the URL and
/// secrets are loaded when it is sent.
/// </summary>
public sealed record NotifyCueFailed(
    Guid ExecutionId,
    string CueId,
    DateTimeOffset ScheduledFor,
    int Attempts,
    int? LastHttpStatus,
    string? LastError,
    DateTimeOffset FailedAt);
