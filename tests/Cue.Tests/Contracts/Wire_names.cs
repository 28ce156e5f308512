using Cue.Api.Hosting;
using Cue.Contracts.Events;
using Cue.Contracts.Messages;

namespace Cue.Tests.Contracts;

/// <summary>
/// Stored event names and bus message type names are storage and wire formats: renaming or moving a
/// type must fail here rather than orphan stored events or strand messages in queues.
/// </summary>
public sealed class Wire_names
{
    [Test]
    public void Stored_event_names_are_pinned()
    {
        Assert.That(StoredEventNames.All.ToDictionary(p => p.Key.FullName!, p => p.Value), Is.EquivalentTo(new Dictionary<string, string>
        {
            ["Cue.Contracts.Events.AccountRegistered"] = "account_registered",
            ["Cue.Contracts.Events.CueCreated"] = "cue_created",
            ["Cue.Contracts.Events.ExecutionCreated"] = "execution_created",
            ["Cue.Contracts.Events.AttemptRecorded"] = "attempt_recorded",
            ["Cue.Contracts.Events.AttemptStarted"] = "attempt_started",
            ["Cue.Contracts.Events.CueUpdated"] = "cue_updated",
            ["Cue.Contracts.Events.CueDeleted"] = "cue_deleted",
            ["Cue.Contracts.Events.CueCompleted"] = "cue_completed",
            ["Cue.Contracts.Events.CueFailed"] = "cue_failed",
            ["Cue.Contracts.Events.CuePausedAfterFailure"] = "cue_paused_after_failure",
            ["Cue.Contracts.Events.CatchUpTruncated"] = "catch_up_truncated",
            ["Cue.Contracts.Events.ExecutionMissed"] = "execution_missed",
            ["Cue.Contracts.Events.ExecutionCancelled"] = "execution_cancelled",
            ["Cue.Contracts.Events.OutcomeRecorded"] = "outcome_recorded",
            ["Cue.Contracts.Events.VerificationChanged"] = "verification_changed",
            ["Cue.Contracts.Events.EvidenceUpdated"] = "evidence_updated",
            ["Cue.Contracts.Events.ApiKeyRegenerated"] = "api_key_regenerated",
            ["Cue.Contracts.Events.WebhookSecretRegenerated"] = "webhook_secret_regenerated",
        }));
    }

    [Test]
    public void Message_types_keep_their_full_names()
    {
        // MassTransit routes on the full type name (urn:message:Namespace:Type).
        Assert.Multiple(() =>
        {
            Assert.That(typeof(DeliverCue).FullName, Is.EqualTo("Cue.Contracts.Messages.DeliverCue"));
            Assert.That(typeof(DeliveryAttempted).FullName, Is.EqualTo("Cue.Contracts.Messages.DeliveryAttempted"));
            Assert.That(typeof(OccurrenceMissed).FullName, Is.EqualTo("Cue.Contracts.Messages.OccurrenceMissed"));
            Assert.That(typeof(CatchUpCapped).FullName, Is.EqualTo("Cue.Contracts.Messages.CatchUpCapped"));
            Assert.That(typeof(NotifyCueFailed).FullName, Is.EqualTo("Cue.Contracts.Messages.NotifyCueFailed"));
            Assert.That(typeof(DeliveryStarted).FullName, Is.EqualTo("Cue.Contracts.Messages.DeliveryStarted"));
        });
    }

    [Test]
    public void Messages_carry_no_payload_callback_secret_or_response_body()
    {
        var forbidden = new[] { "Payload", "Url", "Callback", "Secret", "Headers", "Email", "ApiKey", "Body" };
        foreach (var type in new[] { typeof(DeliverCue), typeof(DeliveryAttempted), typeof(OccurrenceMissed), typeof(CatchUpCapped), typeof(NotifyCueFailed), typeof(DeliveryStarted) })
        {
            var names = type.GetProperties().Select(p => p.Name).ToList();
            Assert.That(names.Where(n => forbidden.Any(f => n.Contains(f, StringComparison.Ordinal))), Is.Empty, type.Name);
        }
    }
}
