namespace Cue.Contracts.Messages;

/// <summary>
/// Sent by the scheduler at an execution's due instant (and for each retry). Carries ids and
/// non-sensitive metadata only: the payload, callback and secrets are loaded by the delivery worker.
/// </summary>
public sealed record DeliverCue(
    Guid ExecutionId,
    string CueId,
    DateTimeOffset ScheduledFor,
    int Attempt,
    string TriggeredBy);
