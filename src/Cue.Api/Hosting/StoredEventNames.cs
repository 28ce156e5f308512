using Cue.Contracts.Events;
using Marten;

namespace Cue.Api.Hosting;

/// <summary>
/// Stored event names are a storage format: pinned here so renaming or moving a type never orphans the
/// events already in the log. A test fails if any of these changes.
/// </summary>
public static class StoredEventNames
{
    public static readonly IReadOnlyDictionary<Type, string> All = new Dictionary<Type, string>
    {
        [typeof(AccountRegistered)] = "account_registered",
        [typeof(CueCreated)] = "cue_created",
        [typeof(ExecutionCreated)] = "execution_created",
        [typeof(AttemptRecorded)] = "attempt_recorded",
        [typeof(AttemptStarted)] = "attempt_started",
        [typeof(CueUpdated)] = "cue_updated",
        [typeof(CueDeleted)] = "cue_deleted",
        [typeof(CueCompleted)] = "cue_completed",
        [typeof(CueFailed)] = "cue_failed",
        [typeof(CuePausedAfterFailure)] = "cue_paused_after_failure",
        [typeof(CatchUpTruncated)] = "catch_up_truncated",
        [typeof(ExecutionMissed)] = "execution_missed",
        [typeof(ExecutionCancelled)] = "execution_cancelled",
        [typeof(OutcomeRecorded)] = "outcome_recorded",
        [typeof(VerificationChanged)] = "verification_changed",
        [typeof(EvidenceUpdated)] = "evidence_updated",
        [typeof(ApiKeyRegenerated)] = "api_key_regenerated",
        [typeof(WebhookSecretRegenerated)] = "webhook_secret_regenerated",
    };

    public static void Register(StoreOptions options)
    {
        foreach (var (type, name) in All)
        {
            options.Events.MapEventType(type, name);
        }
    }
}
