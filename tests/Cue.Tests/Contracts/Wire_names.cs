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

    /// <summary>Every public type in <c>Cue.Contracts.Messages</c>, found by reflection, so a new message is covered without editing this test.</summary>
    private static readonly Type[] MessageTypes =
    [
        .. typeof(DeliverCue).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == typeof(DeliverCue).Namespace)
            .OrderBy(t => t.FullName, StringComparer.Ordinal),
    ];

    [Test]
    public void Message_types_keep_their_full_names()
    {
        // MassTransit routes on the full type name (urn:message:Namespace:Type); a new message type must be added here on purpose.
        Assert.That(MessageTypes.Select(t => t.FullName), Is.EquivalentTo(new[]
        {
            "Cue.Contracts.Messages.DeliverCue",
            "Cue.Contracts.Messages.DeliveryAttempted",
            "Cue.Contracts.Messages.OccurrenceMissed",
            "Cue.Contracts.Messages.CatchUpCapped",
            "Cue.Contracts.Messages.NotifyCueFailed",
            "Cue.Contracts.Messages.DeliveryStarted",
        }));
    }

    /// <summary>
    /// Messages sit in queues an operator can read in the RabbitMQ console (and in <c>_error</c> queues for
    /// as long as nobody moves them): they carry ids, times and outcomes only. A property is refused by name
    /// (payload, URL, header, secret, e-mail, body and the like) and by type: anything but a scalar could
    /// carry a payload or a header map whatever its name.
    /// </summary>
    [Test]
    public void Messages_carry_no_payload_url_header_secret_email_or_body()
    {
        var forbidden = new[]
        {
            "Payload", "Url", "Uri", "Callback", "Header", "Secret", "Signature", "Email", "Mail", "ApiKey", "Token", "Password", "Body", "Response",
        };
        var scalars = new[] { typeof(Guid), typeof(string), typeof(DateTimeOffset), typeof(int), typeof(long), typeof(bool), typeof(double), typeof(decimal) };
        Assert.That(MessageTypes, Has.Length.GreaterThanOrEqualTo(5), "the namespace scan found the message types");
        Assert.Multiple(() =>
        {
            foreach (var type in MessageTypes)
            {
                // Public instance properties are what the serializer puts on the wire (a record's EqualityContract is not).
                var properties = type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance);
                Assert.That(properties, Is.Not.Empty, type.Name);
                foreach (var property in properties)
                {
                    Assert.That(forbidden.Where(f => property.Name.Contains(f, StringComparison.OrdinalIgnoreCase)), Is.Empty, $"{type.Name}.{property.Name}");
                    var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                    Assert.That(scalars.Contains(propertyType) || propertyType.IsEnum, Is.True,
                        $"{type.Name}.{property.Name} is a {propertyType.Name}, which could carry a payload or headers");
                }
            }
        });
    }
}
