using Cue.Api.Cues;
using Cue.Contracts.Events;
using Marten;

namespace Cue.Api.Executions;

/// <summary>Starting a scheduled execution's stream from the delivery worker's first report on it.</summary>
public static class ExecutionStreams
{
    /// <summary>
    /// Starts the execution's stream with <see cref="ExecutionCreated"/> (the payload as the attempt sent it)
    /// followed by <paramref name="first"/>. Returns the new view before <paramref name="first"/> applies,
    /// or null when the cue never existed. A caller that has already read the cue's current view passes it as
    /// <paramref name="currentCue"/> (a batch reads all its cues at once); otherwise it is loaded here.
    /// </summary>
    public static async Task<ExecutionView?> StartAsync(IDocumentSession session, Guid executionId, string cueId, DateTimeOffset scheduledFor,
        string triggeredBy, DateTimeOffset at, long? cueVersion, object first, CancellationToken cancellationToken, CueView? currentCue = null)
    {
        var cue = await CueAsSentAsync(session, cueId, cueVersion, currentCue, cancellationToken);
        if (cue is null)
        {
            return null;
        }

        var created = new ExecutionCreated(executionId, cueId, cue.AccountId, cue.Name, scheduledFor, triggeredBy, cue.Payload, at);
        // A concurrent start of the same stream (the attempt's start and end racing) fails here and is retried.
        session.Events.StartStream<ExecutionView>(executionId.ToString("D"), created, first);
        return ExecutionView.Create(created);
    }

    /// <summary>The cue as the attempt sent it: at the version the worker reported, which may be older than the view (or deleted since).</summary>
    private static async Task<CueView?> CueAsSentAsync(IDocumentSession session, string cueId, long? cueVersion, CueView? known, CancellationToken cancellationToken)
    {
        var current = known ?? await session.LoadAsync<CueView>(cueId, cancellationToken);
        if (cueVersion is not { } version || current?.Version == version)
        {
            return current;
        }

        return await session.Events.AggregateStreamAsync<CueView>(cueId, version, token: cancellationToken) ?? current;
    }
}

/// <summary>Marks an execution <c>delivering</c> as an attempt begins; a start that arrives after its attempt's result changes nothing.</summary>
public sealed class DeliveryStartedConsumer(IDocumentStore store) : MassTransit.IConsumer<Contracts.Messages.DeliveryStarted>
{
    public async Task Consume(MassTransit.ConsumeContext<Contracts.Messages.DeliveryStarted> context)
    {
        var m = context.Message;
        await using var session = store.LightweightSession();
        var streamId = m.ExecutionId.ToString("D");
        var started = new AttemptStarted(m.ExecutionId, m.Attempt, m.StartedAt);
        var state = await session.Events.FetchStreamStateAsync(streamId, context.CancellationToken);
        if (state is null)
        {
            await ExecutionStreams.StartAsync(session, m.ExecutionId, m.CueId, m.ScheduledFor, m.TriggeredBy, m.StartedAt, m.CueVersion, started, context.CancellationToken);
        }
        else
        {
            var execution = await session.LoadAsync<ExecutionView>(streamId, context.CancellationToken);
            if (execution is null || execution.Attempts >= m.Attempt || ExecutionView.IsFinal(execution.Status))
            {
                return;
            }

            session.Events.Append(streamId, state.Version + 1, started);
        }

        await session.SaveChangesAsync(context.CancellationToken);
    }
}
