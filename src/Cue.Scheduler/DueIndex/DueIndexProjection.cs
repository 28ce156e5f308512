using Cue.Contracts.Events;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace Cue.Scheduler.DueIndex;

/// <summary>
/// Keeps the due index in step with the event log, inside the same transaction as the append
/// (registered inline by the API, the one writer of events). Every statement is an idempotent upsert
/// or delete keyed by the event's own data, so replaying the log rebuilds the same rows.
/// </summary>
public sealed partial class DueIndexProjection : EventProjection
{
    public DueIndexProjection()
    {
        SchemaObjects.Add(DueIndexTable.Definition());
        SchemaObjects.Add(DueIndexTable.HeartbeatDefinition());
    }

    public void Project(IEvent<CueCreated> @event, IDocumentOperations operations)
    {
        var e = @event.Data;
        if (e.NextRunAt is { } next)
        {
            UpsertOccurrence(operations, e.CueId, next, e.Schedule, e.CatchUp, @event.Version);
        }
    }

    public void Project(IEvent<CueUpdated> @event, IDocumentOperations operations)
    {
        var e = @event.Data;
        if (!e.Rescheduled)
        {
            // Same schedule and status: the row keeps its place (and its claim); only the policy follows.
            operations.QueueSqlCommand($"update {DueIndexTable.Name} set catch_up = ? where id = ?", e.CatchUp, DueIndexTable.OccurrenceKey(e.CueId));
        }
        else if (e.NextRunAt is { } next)
        {
            UpsertOccurrence(operations, e.CueId, next, e.Schedule, e.CatchUp, @event.Version);
        }
        else
        {
            DeleteOccurrence(operations, e.CueId, @event.Version);
        }
    }

    public void Project(IEvent<CueDeleted> @event, IDocumentOperations operations) =>
        DeleteOccurrence(operations, @event.Data.CueId, @event.Version);

    public void Project(IEvent<CuePausedAfterFailure> @event, IDocumentOperations operations) =>
        DeleteOccurrence(operations, @event.Data.CueId, @event.Version);

    /// <summary>A manual fire or replay waits in the due index as attempt 1 of its execution, due at its <c>scheduled_for</c>.</summary>
    public void Project(IEvent<ExecutionCreated> @event, IDocumentOperations operations)
    {
        var e = @event.Data;
        if (e.TriggeredBy == Contracts.TriggerKinds.Scheduled)
        {
            return;
        }

        operations.QueueSqlCommand(
            $"""
            insert into {DueIndexTable.Name} (id, cue_id, kind, due_at, execution_id, attempt, triggered_by, scheduled_for, cue_version)
            values (?, ?, {DueIndexTable.Retry}, ?, ?, 1, ?, ?, 0)
            on conflict (id) do nothing
            """,
            DueIndexTable.RetryKey(e.ExecutionId), e.CueId, e.ScheduledFor.ToUniversalTime(), e.ExecutionId, e.TriggeredBy, e.ScheduledFor.ToUniversalTime());
    }

    public void Project(IEvent<ExecutionCancelled> @event, IDocumentOperations operations) =>
        operations.QueueSqlCommand($"delete from {DueIndexTable.Name} where id = ?", DueIndexTable.RetryKey(@event.Data.ExecutionId));

    private static void DeleteOccurrence(IDocumentOperations operations, string cueId, long version) =>
        operations.QueueSqlCommand($"delete from {DueIndexTable.Name} where id = ? and cue_version <= ?", DueIndexTable.OccurrenceKey(cueId), version);

    private static void UpsertOccurrence(IDocumentOperations operations, string cueId, DateTimeOffset next, CueSchedule schedule, string catchUp, long version) =>
        operations.QueueSqlCommand(
            $"""
            insert into {DueIndexTable.Name} (id, cue_id, kind, due_at, attempt, triggered_by, schedule_type, cron, timezone, catch_up, cue_version)
            values (?, ?, {DueIndexTable.Occurrence}, ?, 1, 'scheduled', ?, ?, ?, ?, ?)
            on conflict (id) do update set due_at = excluded.due_at, schedule_type = excluded.schedule_type,
                cron = excluded.cron, timezone = excluded.timezone, catch_up = excluded.catch_up,
                cue_version = excluded.cue_version, lease_until = null
            where {DueIndexTable.Name}.cue_version <= excluded.cue_version
            """,
            DueIndexTable.OccurrenceKey(cueId), cueId, next.ToUniversalTime(), schedule.Type,
            (object?)schedule.Cron ?? DBNull.Value, schedule.Timezone, catchUp, version);

    public void Project(IEvent<AttemptRecorded> @event, IDocumentOperations operations)
    {
        var e = @event.Data;
        if (e.NextAttemptAt is { } next)
        {
            operations.QueueSqlCommand(
                $"""
                insert into {DueIndexTable.Name} (id, cue_id, kind, due_at, execution_id, attempt, triggered_by, scheduled_for, cue_version)
                values (?, ?, {DueIndexTable.Retry}, ?, ?, ?, ?, ?, 0)
                on conflict (id) do update set due_at = excluded.due_at, attempt = excluded.attempt, lease_until = null
                where {DueIndexTable.Name}.attempt < excluded.attempt
                """,
                DueIndexTable.RetryKey(e.ExecutionId), e.CueId, next.ToUniversalTime(), e.ExecutionId,
                e.Attempt + 1, e.TriggeredBy, e.ScheduledFor.ToUniversalTime());
        }
        else
        {
            // A final attempt: no retry entry may outlive it.
            operations.QueueSqlCommand(
                $"delete from {DueIndexTable.Name} where id = ? and attempt <= ?",
                DueIndexTable.RetryKey(e.ExecutionId), e.Attempt + 1);
        }
    }
}
