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
using Npgsql;

namespace Cue.Api.Executions;

/// <summary>
/// Appends each delivery attempt to its execution's stream, starting the stream (with the payload
/// snapshot) on the first one. Idempotent on (execution, attempt): a redelivered message changes nothing.
/// Attempts arrive in batches (a burst of fires finishes together) and a batch is written in as few
/// transactions as it can: one per <see cref="Rounds">round</see>, instead of one per attempt.
/// </summary>
public sealed class DeliveryAttemptedConsumer(IDocumentStore store, AttemptResponses responses, NpgsqlDataSource dataSource, KeyRing keyRing,
    ILogger<DeliveryAttemptedConsumer> logger) : IConsumer<Batch<DeliveryAttempted>>
{
    public async Task Consume(ConsumeContext<Batch<DeliveryAttempted>> context)
    {
        // A redelivered duplicate within one batch is the same attempt: keep one.
        var attempts = context.Message.Select(c => c.Message).DistinctBy(m => (m.ExecutionId, m.Attempt)).OrderBy(m => m.Attempt).ToList();
        var bodies = await responses.FindManyAsync(attempts.Select(m => m.ExecutionId).Distinct().ToArray(), context.CancellationToken);
        foreach (var round in Rounds(attempts))
        {
            // A session of its own per round: a retried batch must not inherit a failed unit of work, and
            // rounds already committed are found recorded when it is retried.
            await using var session = store.LightweightSession();
            var reads = await RoundReads.LoadAsync(session, dataSource, round, context.CancellationToken);
            foreach (var m in round)
            {
                await RecordAsync(session, reads, m, bodies.GetValueOrDefault((m.ExecutionId, m.Attempt)), context.CancellationToken);
            }

            await session.SaveChangesAsync(context.CancellationToken);
        }
    }

    /// <summary>
    /// Splits a batch into rounds that each touch an execution and a cue at most once: every read a
    /// record makes (stream state, views) then sees the database as the round's earlier records left it,
    /// and no two appends in one transaction expect the same stream version. A burst of distinct cues is
    /// one round; attempts of one execution, or executions of one cue, follow in later rounds in order.
    /// </summary>
    internal static List<List<DeliveryAttempted>> Rounds(IEnumerable<DeliveryAttempted> attempts)
    {
        var rounds = new List<(List<DeliveryAttempted> Items, HashSet<Guid> Executions, HashSet<string> Cues)>();
        foreach (var m in attempts)
        {
            // The round after the last one holding its execution or cue, so each keeps its order.
            var index = rounds.FindLastIndex(r => r.Executions.Contains(m.ExecutionId) || r.Cues.Contains(m.CueId)) + 1;
            if (index == rounds.Count)
            {
                rounds.Add(([], [], new HashSet<string>(StringComparer.Ordinal)));
            }

            rounds[index].Items.Add(m);
            rounds[index].Executions.Add(m.ExecutionId);
            rounds[index].Cues.Add(m.CueId);
        }

        return [.. rounds.Select(r => r.Items)];
    }

    private async Task RecordAsync(IDocumentSession session, RoundReads reads, DeliveryAttempted m, Sealed? responseBody, CancellationToken cancellationToken)
    {
        using var activity = CueTelemetry.Source.StartActivity("cue.record_attempt");
        activity?.SetTag(CueTelemetry.ExecutionId, m.ExecutionId.ToString("D"));
        activity?.SetTag(CueTelemetry.CueId, m.CueId);
        activity?.SetTag(CueTelemetry.Attempt, m.Attempt);
        activity?.SetTag(CueTelemetry.Result, m.Result);
        var streamId = m.ExecutionId.ToString("D");
        AttemptRecorded recorded = new(m.ExecutionId, m.CueId, m.Attempt, m.StartedAt, m.FinishedAt, m.Result, m.HttpStatus,
            m.ErrorMessage, responseBody, m.RemoteAddress, m.RetryAfterSeconds, m.NextAttemptAt, m.ScheduledFor, m.TriggeredBy);

        // The snippet now lives in the event (or the attempt was already recorded): the hand-over row goes either way.
        session.QueueSqlCommand($"delete from {AttemptResponses.Name} where execution_id = ? and attempt = ?", m.ExecutionId, m.Attempt);

        var version = reads.StreamVersion(streamId);
        ExecutionView? execution = null;
        var appended = false;
        if (version is null)
        {
            execution = await ExecutionStreams.StartAsync(session, m.ExecutionId, m.CueId, m.ScheduledFor, m.TriggeredBy, m.StartedAt, m.CueVersion,
                recorded, cancellationToken, reads.Cue(m.CueId));
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
            execution = reads.Execution(streamId);
            if (execution is null || execution.AttemptLog.All(a => a.Attempt != m.Attempt))
            {
                if (execution?.Status == "cancelled")
                {
                    // The cue was deleted while this attempt was in flight: record it, schedule nothing more.
                    recorded = recorded with { NextAttemptAt = null };
                }

                // Expected version: a concurrent duplicate fails here and is retried, then finds its attempt recorded.
                session.Events.Append(streamId, version.Value + 1, recorded);
                appended = true;
            }
        }

        if (appended && execution is not null && execution.Status != "cancelled")
        {
            execution.Apply(recorded);
            CueFinalState(session, execution, reads.Cue(execution.CueId));
        }

        if (execution is not null)
        {
            await RecordOutcomeFromResponseAsync(session, m, streamId, version, responseBody, execution.AccountId, cancellationToken);
        }
    }

    /// <summary>
    /// A scheduled execution that ended decides its cue's state (§6.3): a once cue completes or fails; a
    /// recurring cue with <c>on_failure.pause</c> pauses after a final failure.
    /// </summary>
    private static void CueFinalState(IDocumentSession session, ExecutionView execution, CueView? cue)
    {
        if (execution.TriggeredBy != TriggerKinds.Scheduled || execution.Status is not ("success" or "failed"))
        {
            return;
        }

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
        long? version, Sealed? responseBody, Guid accountId, CancellationToken cancellationToken)
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
        var execution = version is null ? null : await session.LoadAsync<ExecutionView>(streamId, cancellationToken);
        if ((version is null && !joining) || execution?.Outcome is not null)
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
            session.Events.Append(streamId, version!.Value + 1, recorded);
        }
    }
}

/// <summary>
/// What a round's records read, fetched for the whole round in three queries instead of three per attempt:
/// which execution streams exist (and their versions), their views, and the cues. A round touches each
/// execution and cue once, so these are exactly what each record would have read on its own.
/// </summary>
internal sealed class RoundReads(Dictionary<string, long> versions, Dictionary<string, ExecutionView> executions, Dictionary<string, CueView> cues)
{
    public long? StreamVersion(string streamId) => versions.TryGetValue(streamId, out var v) ? v : null;

    public ExecutionView? Execution(string streamId) => executions.GetValueOrDefault(streamId);

    public CueView? Cue(string cueId) => cues.GetValueOrDefault(cueId);

    public static async Task<RoundReads> LoadAsync(IQuerySession session, NpgsqlDataSource dataSource, IReadOnlyCollection<DeliveryAttempted> round,
        CancellationToken cancellationToken)
    {
        var streamIds = round.Select(m => m.ExecutionId.ToString("D")).ToArray();
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var command = dataSource.CreateCommand($"select id, version from {MartenDefaults.Schema}.mt_streams where id = any($1)"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = streamIds });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                versions[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        var executions = versions.Count == 0
            ? []
            : (await session.LoadManyAsync<ExecutionView>(cancellationToken, versions.Keys)).ToDictionary(e => e.Id, StringComparer.Ordinal);
        var cues = (await session.LoadManyAsync<CueView>(cancellationToken, round.Select(m => m.CueId).Distinct(StringComparer.Ordinal)))
            .ToDictionary(c => c.Id, StringComparer.Ordinal);
        return new RoundReads(versions, executions, cues);
    }
}

/// <summary>
/// An attempt's start and its result are consumed from one queue. Starts are taken one execution at a
/// time in each API process (a partition per execution id); results in batches. A start is reported only
/// for an attempt still running after <c>Delivery:StartedReportDelay</c>, so the two rarely arrive together;
/// when they do, both may try to start the execution's stream, and the one that loses retries.
/// </summary>
public static class ExecutionAuditEndpoint
{
    public const string Name = "execution-audit";

    /// <summary>Shared by the endpoint's consumers (one partitioner per endpoint, or nothing is serialised).</summary>
    public static readonly IPartitioner Partitioner = new MassTransit.Middleware.Partitioner(16, new MassTransit.Middleware.Murmur3UnsafeHashGenerator());
}

/// <summary>
/// Results are taken in batches of up to <see cref="BatchSize"/> or whatever arrived within
/// <see cref="BatchWindow"/>; four batches may be written at once (they collide only on the same execution or
/// cue, which fails one append's expected version and retries that batch). The endpoint lets enough
/// messages in at once to fill them.
/// </summary>
public sealed class DeliveryAttemptedConsumerDefinition : AuditConsumerDefinition<DeliveryAttemptedConsumer>
{
    public const int BatchSize = 100;
    public const int Batches = 4;
    public static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(50);

    public DeliveryAttemptedConsumerDefinition()
    {
        EndpointName = ExecutionAuditEndpoint.Name;
        Endpoint(e => e.PrefetchCount = BatchSize * Batches);
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<DeliveryAttemptedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        consumerConfigurator.Options<BatchOptions>(o => o.SetMessageLimit(BatchSize).SetTimeLimit(BatchWindow).SetConcurrencyLimit(Batches));
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
