using Cue.Contracts;
using Cue.Contracts.Messages;
using Cue.Delivery.Attempts;
using Cue.Delivery.Sending;
using Cue.Delivery.Targets;
using Cue.Encryption;
using Marten;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Cue.Delivery;

/// <summary>
/// One attempt of one execution: load the cue's delivery view and the account's secrets, sign, POST,
/// classify, decide the retry, and publish <see cref="DeliveryAttempted"/> for the audit log.
/// </summary>
public sealed class DeliverCueConsumer(
    IQuerySession session,
    WebhookSender sender,
    AttemptResponses responses,
    KeyRing keyRing,
    IOptions<DeliveryOptions> options,
    TimeProvider time,
    ILogger<DeliverCueConsumer> logger) : IConsumer<DeliverCue>
{
    public async Task Consume(ConsumeContext<DeliverCue> context)
    {
        var message = context.Message;
        using var activity = DeliveryTelemetry.StartDeliver(message);
        // The cue's delivery view and the execution's payload snapshot in one round trip (the keys depend on the cue).
        var batch = session.CreateBatchQuery();
        var targetLoad = batch.Load<DeliveryTarget>(message.CueId);
        var snapshotLoad = batch.Load<ExecutionSnapshot>(message.ExecutionId.ToString("D"));
        await batch.Execute(context.CancellationToken);
        var target = await targetLoad;
        if (target is null)
        {
            DeliveryTelemetry.Dropped(activity);
            logger.LogWarning("Cue {CueId} has no delivery view; execution {ExecutionId} attempt {Attempt} is dropped", message.CueId, message.ExecutionId, message.Attempt);
            return;
        }

        var keys = await session.LoadAsync<SigningKeys>(target.AccountId.ToString("D"), context.CancellationToken)
            ?? throw new InvalidOperationException($"Account of cue {message.CueId} has no signing keys.");

        // Every attempt after an execution exists delivers its snapshot; a scheduled execution's first
        // attempt delivers the cue as it is now and reports which version that was.
        // During a rotation's grace period the previous secret signs too (§9.4).
        // The sealed parts are opened here, for this attempt only.
        var snapshot = await snapshotLoad;
        var cipher = await keyRing.ForAccountAsync(target.AccountId, context.CancellationToken);
        var secrets = keys.ValidAt(time.GetUtcNow(), cipher);
        var callback = target.OpenCallback(cipher);
        var payload = cipher.Open(SealedFields.Payload, snapshot?.Payload ?? target.Payload);
        var cueVersion = snapshot is null ? target.Version : (long?)null;

        // The audit log shows the attempt as started while the receiver works. Most receivers answer long
        // before anyone could see that state, so the start is reported only once the POST has run for
        // StartedReportDelay: a fast attempt costs the audit log one append instead of two (its result alone
        // makes the same view). A start that was published completes before the result is published.
        using var answered = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var started = ReportStartedUnlessAnsweredAsync(context, new DeliveryStarted(message.ExecutionId, message.CueId, message.ScheduledFor,
            message.TriggeredBy, message.Attempt, time.GetUtcNow(), cueVersion), answered.Token);
        var outcome = await sender.SendAsync(callback, snapshot?.CueName ?? target.Name, payload, secrets, message, context.CancellationToken);
        await answered.CancelAsync();

        DateTimeOffset? nextAttemptAt = null;
        int? retryAfterSeconds = null;
        if (outcome.Result == AttemptResult.RetryableFailure && message.Attempt < target.MaxAttempts)
        {
            var delay = Backoff.Next(message.Attempt, target.BackoffMinutes, options.Value.BackoffUnit, Random.Shared.NextDouble(), outcome.RetryAfter);
            nextAttemptAt = outcome.FinishedAt + delay.Wait;
            retryAfterSeconds = delay.RetryAfterSeconds;
        }

        DeliveryTelemetry.Attempted(activity, message, outcome, ToWire(outcome.Result), nextAttemptAt is not null);

        logger.LogInformation(
            "Execution {ExecutionId} attempt {Attempt} of cue {CueId}: {Result} {HttpStatus} in {DurationMs} ms",
            message.ExecutionId, message.Attempt, message.CueId, outcome.Result, outcome.HttpStatus, (int)(outcome.FinishedAt - outcome.StartedAt).TotalMilliseconds);

        if (outcome.ResponseBody is { } body
            && !await responses.TrySaveAsync(message.ExecutionId, message.Attempt, cipher.Seal(SealedFields.ResponseBody, body), context.CancellationToken))
        {
            // The POST went out: throwing now would redeliver this message and POST the same attempt again.
            // The attempt is recorded without its snippet instead (invariant 3: each attempt once).
            logger.LogWarning("The response of execution {ExecutionId} attempt {Attempt} could not be stored; the attempt is recorded without it",
                message.ExecutionId, message.Attempt);
        }

        await started;
        if (outcome.Result != AttemptResult.Success && nextAttemptAt is null && target.OnFailureWebhook is not null)
        {
            await context.Publish(new NotifyCueFailed(message.ExecutionId, message.CueId, message.ScheduledFor, message.Attempt,
                outcome.HttpStatus, outcome.ErrorMessage, outcome.FinishedAt));
        }

        await context.Publish(new DeliveryAttempted(
            message.ExecutionId,
            message.CueId,
            message.ScheduledFor,
            message.TriggeredBy,
            message.Attempt,
            outcome.StartedAt,
            outcome.FinishedAt,
            ToWire(outcome.Result),
            outcome.HttpStatus,
            outcome.ErrorMessage,
            outcome.RemoteAddress,
            retryAfterSeconds,
            nextAttemptAt,
            cueVersion));
    }

    private async Task ReportStartedUnlessAnsweredAsync(ConsumeContext context, DeliveryStarted started, CancellationToken answered)
    {
        try
        {
            await Task.Delay(options.Value.StartedReportDelay, time, answered);
        }
        catch (OperationCanceledException) when (answered.IsCancellationRequested)
        {
            return;
        }

        await context.Publish(started, context.CancellationToken);
    }

    private static string ToWire(AttemptResult result) => result switch
    {
        AttemptResult.Success => AttemptResults.Success,
        AttemptResult.Blocked => AttemptResults.Blocked,
        AttemptResult.Interrupted => AttemptResults.Interrupted,
        _ => AttemptResults.RetryableFailure,
    };
}

public sealed class DeliverCueConsumerDefinition : ConsumerDefinition<DeliverCueConsumer>
{
    public DeliverCueConsumerDefinition(IOptions<DeliveryOptions> options)
    {
        ConcurrentMessageLimit = options.Value.ConcurrentDeliveries;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<DeliverCueConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
            rabbit.PrefetchCount = (ushort)Math.Min(ConcurrentMessageLimit ?? 64, ushort.MaxValue);
        }

        // Retries here cover Cue's own dependencies (database, broker) failing around an attempt. The
        // receiver's failures never throw: they are recorded attempts with their own backoff.
        endpointConfigurator.UseMessageRetry(r => r.Intervals(
            TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30)));
    }
}
