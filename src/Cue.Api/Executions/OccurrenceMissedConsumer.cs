using Cue.Api.Cues;
using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Contracts.Messages;
using Marten;
using MassTransit;

namespace Cue.Api.Executions;

/// <summary>
/// Records an occurrence the catch-up policy skipped (§6.4) as a <c>missed</c> execution, once: the
/// execution id is the occurrence's deterministic id, so a re-sent message finds the stream and stops.
/// A once cue whose only occurrence was missed under <c>skip_missed</c> fails.
/// </summary>
public sealed class OccurrenceMissedConsumer(IDocumentStore store, ILogger<OccurrenceMissedConsumer> logger) : IConsumer<OccurrenceMissed>
{
    public async Task Consume(ConsumeContext<OccurrenceMissed> context)
    {
        var m = context.Message;
        await using var session = store.LightweightSession();
        var streamId = m.ExecutionId.ToString("D");
        if (await session.Events.FetchStreamStateAsync(streamId, context.CancellationToken) is not null)
        {
            return;
        }

        var cue = await session.LoadAsync<CueView>(m.CueId, context.CancellationToken);
        if (cue is null)
        {
            logger.LogInformation("Missed occurrence {ScheduledFor} of cue {CueId} is not recorded: the cue was deleted", m.ScheduledFor, m.CueId);
            return;
        }

        var at = context.SentTime is { } sent ? new DateTimeOffset(sent, TimeSpan.Zero) : m.ScheduledFor;
        session.Events.StartStream<ExecutionView>(streamId,
            new ExecutionCreated(m.ExecutionId, m.CueId, cue.AccountId, cue.Name, m.ScheduledFor, TriggerKinds.Scheduled, cue.Payload, at),
            new ExecutionMissed(m.ExecutionId, m.CueId, m.Reason, at));

        if (cue is { Status: "active", Schedule.Type: "once" } && cue.Schedule.At == m.ScheduledFor)
        {
            session.Events.Append(cue.Id, cue.Version + 1, new CueFailed(cue.Id, m.ExecutionId, at));
        }

        await session.SaveChangesAsync(context.CancellationToken);
    }
}

/// <summary>Turns a capped catch-up into the cue's <c>warning</c> (§6.4).</summary>
public sealed class CatchUpCappedConsumer(IDocumentStore store) : IConsumer<CatchUpCapped>
{
    public async Task Consume(ConsumeContext<CatchUpCapped> context)
    {
        var m = context.Message;
        await using var session = store.LightweightSession();
        var cue = await session.LoadAsync<CueView>(m.CueId, context.CancellationToken);
        if (cue is null)
        {
            return;
        }

        session.Events.Append(cue.Id, cue.Version + 1, new CatchUpTruncated(cue.Id, m.Dropped, m.DroppedUntil, m.At));
        await session.SaveChangesAsync(context.CancellationToken);
    }
}
