namespace Cue.Contracts.Events;

public sealed record CueSchedule(string Type, string? Cron, DateTimeOffset? At, string Timezone);

public sealed record CueCallback(string Url, string Method, IReadOnlyDictionary<string, string> Headers);

public sealed record CueRetry(int MaxAttempts, IReadOnlyList<int> BackoffMinutes);

public sealed record CueOnFailure(bool Email, string? Webhook, bool Pause);

/// <summary>
/// A cue was accepted. <paramref name="Payload"/> is the canonical JSON text of the payload object;
/// <paramref name="NextRunAt"/> is the first occurrence decided at creation, so replaying the event
/// rebuilds the same due-index entry without consulting a clock.
/// </summary>
public sealed record CueCreated(
    string CueId,
    Guid AccountId,
    string AccountMode,
    string Name,
    string? Description,
    CueSchedule Schedule,
    CueCallback Callback,
    string Payload,
    CueRetry Retry,
    int TimeoutSeconds,
    string CatchUp,
    CueOnFailure OnFailure,
    string VerificationMode,
    DateTimeOffset? NextRunAt,
    DateTimeOffset CreatedAt);
