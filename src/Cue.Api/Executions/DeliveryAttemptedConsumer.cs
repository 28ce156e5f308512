using Cue.Api.Cues;
using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Contracts.Messages;
using Cue.Delivery.Sending;
using Cue.Encryption;
using Cue.Hosting;
using JasperFx.Events;
using Marten;
using MassTransit;

namespace Cue.Api.Executions;

/// <summary>
/// Appends each delivery attempt to its execution's stream, starting the stream (with the payload
/// snapshot) on the first one. Idempotent on (execution, attempt): a redelivered message changes nothing.
/// </summary>
public sealed class DeliveryAttemptedConsumer(IDocumentStore store, AttemptResponses responses, KeyRing keyRing, ILogger<DeliveryAttemptedConsumer> logger) : IConsumer<DeliveryAttempted>
{
    public async Task Consume(ConsumeContext<DeliveryAttempted> context)
    {
        var m = context.Message;
        using var activity = CueTelemetry.Source.StartActivity("cue.record_attempt");
        activity?.SetTag(CueTelemetry.ExecutionId, m.ExecutionId.ToString("D"));
        activity?.SetTag(CueTelemetry.CueId, m.CueId);
        activity?.SetTag(CueTelemetry.Attempt, m.Attempt);
        activity?.SetTag(CueTelemetry.Result, m.Result);
        // A session of its own per attempt: a retried message must not inherit a failed unit of work.
        await using var session = store.LightweightSession();
        var streamId = m.ExecutionId.ToString("D");
        var responseBody = await responses.FindAsync(m.ExecutionId, m.Attempt, context.CancellationToken);
        AttemptRecorded recorded = new(m.ExecutionId, m.CueId, m.Attempt, m.StartedAt, m.FinishedAt, m.Result, m.HttpStatus,
            m.ErrorMessage, responseBody, m.RemoteAddress, m.RetryAfterSeconds, m.NextAttemptAt, m.ScheduledFor, m.TriggeredBy);

        // The snippet now lives in the event (or the attempt was already recorded): the hand-over row goes either way.
        session.QueueSqlCommand($"delete from {AttemptResponses.Name} where execution_id = ? and attempt = ?", m.ExecutionId, m.Attempt);

        var state = await session.Events.FetchStreamStateAsync(streamId, context.CancellationToken);
        ExecutionView? execution = null;
        var appended = false;
        if (state is null)
        {
            execution = await ExecutionStreams.StartAsync(session, m.ExecutionId, m.CueId, m.ScheduledFor, m.TriggeredBy, m.StartedAt, m.CueVersion,
                recorded, context.CancellationToken);
            if (execution is null)
            {
                logger.LogWarning("Attempt {Attempt} of execution {ExecutionId} names unknown cue {CueId}; not recorded", m.Attempt, m.ExecutionId, m.CueId);
            }
            else
            {
                appended = true;
            }
        }
        else
        {
            execution = await session.LoadAsync<ExecutionView>(streamId, context.CancellationToken);
            if (execution is null || execution.AttemptLog.All(a => a.Attempt != m.Attempt))
            {
                if (execution?.Status == "cancelled")
                {
                    // The cue was deleted while this attempt was in flight: record it, schedule nothing more.
                    recorded = recorded with { NextAttemptAt = null };
                }

                // Expected version: a concurrent duplicate fails here and is retried, then finds its attempt recorded.
                session.Events.Append(streamId, state.Version + 1, recorded);
                appended = true;
            }
        }

        if (appended && execution is not null && execution.Status != "cancelled")
        {
            execution.Apply(recorded);
            await CueFinalStateAsync(session, execution, context.CancellationToken);
        }

        if (execution is not null)
        {
            await RecordOutcomeFromResponseAsync(session, m, streamId, state, responseBody, execution.AccountId, context.CancellationToken);
        }

        await session.SaveChangesAsync(context.CancellationToken);
    }

    /// <summary>
    /// A scheduled execution that ended decides its cue's state (§6.3): a once cue completes or fails; a
    /// recurring cue with <c>on_failure.pause</c> pauses after a final failure.
    /// </summary>
    private static async Task CueFinalStateAsync(IDocumentSession session, ExecutionView execution, CancellationToken cancellationToken)
    {
        if (execution.TriggeredBy != TriggerKinds.Scheduled || execution.Status is not ("success" or "failed"))
        {
            return;
        }

        var cue = await session.LoadAsync<CueView>(execution.CueId, cancellationToken);
        if (cue is not { Status: "active" })
        {
            return;
        }

        var executionId = Guid.Parse(execution.Id);
        var at = execution.FinishedAt ?? execution.UpdatedAt;
        object? decided = cue.Schedule.Type switch
        {
            // Only the occurrence the cue is armed for: a once cue re-armed since keeps its new time.
            "once" when cue.Schedule.At == execution.ScheduledFor =>
                execution.Status == "success" ? new CueCompleted(cue.Id, executionId, at) : new CueFailed(cue.Id, executionId, at),
            "recurring" when execution.Status == "failed" && cue.OnFailure.Pause => new CuePausedAfterFailure(cue.Id, executionId, at),
            _ => null,
        };

        if (decided is not null)
        {
            session.Events.Append(cue.Id, cue.Version + 1, decided);
        }
    }

    /// <summary>
    /// §9.5: a 2xx body that is a JSON object with a boolean <c>success</c> is the outcome, exactly as a first
    /// <c>POST …/outcome</c> would be, unless one is already recorded. It joins the attempt's append (or, for a
    /// redelivered attempt, expects the version read), so a report racing in through the API cannot make two.
    /// </summary>
    private async Task RecordOutcomeFromResponseAsync(IDocumentSession session, DeliveryAttempted m, string streamId,
        StreamState? state, Sealed? responseBody, Guid accountId, CancellationToken cancellationToken)
    {
        if (m.Result != AttemptResults.Success || responseBody is null)
        {
            return;
        }

        // The snippet arrives sealed by the delivery worker with the same account's key; it is read in clear only here.
        var cipher = await keyRing.ForAccountAsync(accountId, cancellationToken);
        if (OutcomeRules.FromResponseBody(cipher.Open(SealedFields.ResponseBody, responseBody)) is not { } reported)
        {
            return;
        }

        var joining = session.PendingChanges.Streams().Any(s => s.Key == streamId);
        var execution = state is null ? null : await session.LoadAsync<ExecutionView>(streamId, cancellationToken);
        if ((state is null && !joining) || execution?.Outcome is not null)
        {
            return;
        }

        var mode = await OutcomeEndpoints.VerificationModeAsync(session, m.CueId, cancellationToken);
        var recorded = OutcomeRules.Record(m.ExecutionId, reported, mode, OutcomeRules.SourceResponse, m.FinishedAt, cipher);
        if (joining)
        {
            session.Events.Append(streamId, recorded);
        }
        else
        {
            session.Events.Append(streamId, state!.Version + 1, recorded);
        }
    }
}

/// <summary>
/// An attempt's start and its result are consumed from one queue, one execution at a time in each API
/// process (a partition per execution id): the two reports of a fast attempt arrive together, and would
/// otherwise both try to start the execution's stream and retry on the collision.
/// </summary>
public static class ExecutionAuditEndpoint
{
    public const string Name = "execution-audit";

    /// <summary>Shared by the endpoint's consumers (one partitioner per endpoint, or nothing is serialised).</summary>
    public static readonly IPartitioner Partitioner = new MassTransit.Middleware.Partitioner(16, new MassTransit.Middleware.Murmur3UnsafeHashGenerator());
}

public sealed class DeliveryAttemptedConsumerDefinition : AuditConsumerDefinition<DeliveryAttemptedConsumer>
{
    public DeliveryAttemptedConsumerDefinition() => EndpointName = ExecutionAuditEndpoint.Name;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<DeliveryAttemptedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        consumerConfigurator.Message<DeliveryAttempted>(m => m.UsePartitioner(ExecutionAuditEndpoint.Partitioner, c => c.Message.ExecutionId));
        base.ConfigureConsumer(endpointConfigurator, consumerConfigurator, context);
    }
}

public sealed class DeliveryStartedConsumerDefinition : AuditConsumerDefinition<DeliveryStartedConsumer>
{
    public DeliveryStartedConsumerDefinition() => EndpointName = ExecutionAuditEndpoint.Name;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<DeliveryStartedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        consumerConfigurator.Message<DeliveryStarted>(m => m.UsePartitioner(ExecutionAuditEndpoint.Partitioner, c => c.Message.ExecutionId));
        base.ConfigureConsumer(endpointConfigurator, consumerConfigurator, context);
    }
}

/// <summary>
/// The API's consumers append to the audit log: a quorum queue, and retries that outlast a short
/// database outage or a concurrent append to the same stream (which fails its expected version).
/// </summary>
public class AuditConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }

        // On the consumer, not the endpoint: consumers that share an endpoint must not stack endpoint retries.
        consumerConfigurator.UseMessageRetry(r => r.Intervals(
            TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30)));
    }
}
