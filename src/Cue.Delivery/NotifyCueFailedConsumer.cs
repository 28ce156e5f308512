using System.Text;
using System.Text.Json;
using Cue.Contracts;
using Cue.Contracts.Messages;
using Cue.Delivery.Attempts;
using Cue.Delivery.Sending;
using Cue.Delivery.Signing;
using Cue.Delivery.Targets;
using Cue.Encryption;
using Marten;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Cue.Delivery;

/// <summary>
/// Posts the <c>cue.failed</c> notice to a cue's <c>on_failure.webhook</c> (§9.5): the same canonical body
/// rules, signature and SSRF checks as a delivery, plus <c>X-Cue-Event: cue.failed</c>, a 10 s timeout and
/// up to 3 attempts one backoff unit (a minute) apart.
/// </summary>
public sealed class NotifyCueFailedConsumer(
    IQuerySession session,
    WebhookSender sender,
    KeyRing keyRing,
    TimeProvider time,
    ILogger<NotifyCueFailedConsumer> logger) : IConsumer<NotifyCueFailed>
{
    public const int MaxAttempts = 3;
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task Consume(ConsumeContext<NotifyCueFailed> context)
    {
        var m = context.Message;
        var target = await session.LoadAsync<DeliveryTarget>(m.CueId, context.CancellationToken);
        if (target?.OnFailureWebhook is not { } sealedUrl)
        {
            return;
        }

        var keys = await session.LoadAsync<SigningKeys>(target.AccountId.ToString("D"), context.CancellationToken)
            ?? throw new InvalidOperationException($"Account of cue {m.CueId} has no signing keys.");
        var cipher = await keyRing.ForAccountAsync(target.AccountId, context.CancellationToken);
        var url = cipher.Open(SealedFields.FailureWebhook, sealedUrl);
        var outbound = new Outbound(url, "POST", Body(m, target.Name),
            [new("X-Cue-Event", "cue.failed"), new("X-Cue-Cue-Id", m.CueId), new("X-Cue-Execution-Id", m.ExecutionId.ToString("D"))],
            Timeout, target.AccountMode == "test");
        var outcome = await sender.PostAsync(outbound, keys.ValidAt(time.GetUtcNow(), cipher), context.CancellationToken);

        var attempt = context.GetRetryAttempt() + 1;
        logger.LogInformation("cue.failed notice for execution {ExecutionId} of cue {CueId}, attempt {Attempt}: {Result} {HttpStatus}",
            m.ExecutionId, m.CueId, attempt, outcome.Result, outcome.HttpStatus);
        if (outcome.Result == AttemptResult.RetryableFailure && attempt < MaxAttempts)
        {
            // The consumer's retry policy waits one backoff unit and tries again.
            throw new NoticeNotDeliveredException(outcome.ErrorMessage ?? "not delivered");
        }
    }

    /// <summary>The notice in canonical form (§9.3): sorted keys, the exact bytes that are signed and sent.</summary>
    public static byte[] Body(NotifyCueFailed m, string cueName)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["event"] = "cue.failed",
            ["cue_id"] = m.CueId,
            ["cue_name"] = cueName,
            ["execution_id"] = m.ExecutionId.ToString("D"),
            ["scheduled_for"] = Timestamps.ToWire(m.ScheduledFor),
            ["attempts"] = m.Attempts,
            ["last_http_status"] = m.LastHttpStatus,
            ["last_error"] = m.LastError,
            ["failed_at"] = Timestamps.ToWire(m.FailedAt),
        });
        return CanonicalJson.TryCanonicalize(Encoding.UTF8.GetBytes(json), out var canonical, out var error)
            ? Encoding.ASCII.GetBytes(canonical)
            : throw new InvalidOperationException("The cue.failed notice is not canonical JSON: " + error);
    }
}

/// <summary>A <c>cue.failed</c> notice attempt failed in a way worth retrying.</summary>
public sealed class NoticeNotDeliveredException(string message) : Exception(message);

public sealed class NotifyCueFailedConsumerDefinition(IOptions<DeliveryOptions> options) : ConsumerDefinition<NotifyCueFailedConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<NotifyCueFailedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }

        // Held in memory between attempts: a crash in between redelivers the notice from the queue (at least once).
        endpointConfigurator.UseMessageRetry(r => r.Interval(NotifyCueFailedConsumer.MaxAttempts - 1, options.Value.BackoffUnit));
    }
}
