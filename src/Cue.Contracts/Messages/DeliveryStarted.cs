namespace Cue.Contracts.Messages;

/// <summary>
/// Published by the delivery worker as an attempt begins, so the audit log shows the execution as
/// <c>delivering</c> while the receiver is working. Ids and times only; <c>CueVersion</c> as in
/// <see cref="DeliveryAttempted"/>.
/// </summary>
public sealed record DeliveryStarted(
    Guid ExecutionId,
    string CueId,
    DateTimeOffset ScheduledFor,
    string TriggeredBy,
    int Attempt,
    DateTimeOffset StartedAt,
    long? CueVersion);
