namespace Cue.Contracts;

/// <summary>The contract's <c>triggered_by</c> values.</summary>
public static class TriggerKinds
{
    public const string Scheduled = "scheduled";
    public const string ManualFire = "manual_fire";
    public const string Replay = "replay";
}

/// <summary>The contract's attempt <c>result</c> values (§5.3).</summary>
public static class AttemptResults
{
    public const string Success = "success";
    public const string RetryableFailure = "retryable_failure";
    public const string Blocked = "blocked";
    public const string Interrupted = "interrupted";
}
