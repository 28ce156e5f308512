using Npgsql;
using NpgsqlTypes;

namespace Cue.Scheduler.DueIndex;

/// <summary>Batched claim, advance and release of due-index rows: a handful of statements per batch, not per fire.</summary>
public sealed class DueIndexStore(NpgsqlDataSource dataSource)
{
    private const string Columns =
        "d.id, d.cue_id, d.kind, d.due_at, d.execution_id, d.attempt, d.triggered_by, d.scheduled_for, d.schedule_type, d.cron, d.timezone, d.catch_up, d.cue_version";

    /// <summary>
    /// Leases up to <paramref name="batchSize"/> rows due by <paramref name="horizon"/> that nobody holds,
    /// oldest first. <c>SKIP LOCKED</c> lets clustered schedulers claim side by side without waiting.
    /// </summary>
    public async Task<IReadOnlyList<DueEntry>> ClaimAsync(DateTimeOffset now, DateTimeOffset horizon, DateTimeOffset leaseUntil, int batchSize, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            with claimable as (
                select id from {DueIndexTable.Name}
                where due_at <= $1 and (lease_until is null or lease_until < $2)
                order by due_at, id
                limit $3
                for update skip locked)
            update {DueIndexTable.Name} d set lease_until = $4
            from claimable c where d.id = c.id
            returning {Columns}
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = horizon.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = now.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = batchSize });
        command.Parameters.Add(new NpgsqlParameter { Value = leaseUntil.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });

        var entries = new List<DueEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new DueEntry(
                Id: reader.GetString(0),
                CueId: reader.GetString(1),
                Kind: reader.GetInt16(2),
                DueAt: reader.GetFieldValue<DateTimeOffset>(3),
                ExecutionId: reader.IsDBNull(4) ? null : reader.GetGuid(4),
                Attempt: reader.GetInt32(5),
                TriggeredBy: reader.GetString(6),
                ScheduledFor: reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
                ScheduleType: reader.IsDBNull(8) ? null : reader.GetString(8),
                Cron: reader.IsDBNull(9) ? null : reader.GetString(9),
                Timezone: reader.IsDBNull(10) ? null : reader.GetString(10),
                CatchUp: reader.IsDBNull(11) ? null : reader.GetString(11),
                CueVersion: reader.GetInt64(12)));
        }

        // UPDATE … RETURNING keeps no order: restore the claim's.
        entries.Sort((a, b) => a.DueAt != b.DueAt ? a.DueAt.CompareTo(b.DueAt) : string.CompareOrdinal(a.Id, b.Id));
        return entries;
    }

    /// <summary>
    /// Applies advances in one round trip. Each statement is guarded by what was claimed (due time,
    /// cue version, attempt), so a row the event log changed meanwhile is left as the log made it.
    /// </summary>
    public async Task AdvanceAsync(IReadOnlyCollection<Advance> advances, CancellationToken cancellationToken)
    {
        if (advances.Count == 0)
        {
            return;
        }

        await using var batch = dataSource.CreateBatch();
        foreach (var advance in advances)
        {
            var entry = advance.Entry;
            var command = new NpgsqlBatchCommand();
            switch (advance)
            {
                case Advance.MoveTo move:
                    command.CommandText =
                        $"update {DueIndexTable.Name} set due_at = $1, lease_until = null where id = $2 and due_at = $3 and cue_version = $4";
                    command.Parameters.Add(new NpgsqlParameter { Value = move.NextDueAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    command.Parameters.Add(new NpgsqlParameter { Value = entry.Id });
                    command.Parameters.Add(new NpgsqlParameter { Value = entry.DueAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    command.Parameters.Add(new NpgsqlParameter { Value = entry.CueVersion });
                    break;
                case Advance.Remove:
                    command.CommandText =
                        $"delete from {DueIndexTable.Name} where id = $1 and due_at = $2 and attempt = $3 and cue_version = $4";
                    command.Parameters.Add(new NpgsqlParameter { Value = entry.Id });
                    command.Parameters.Add(new NpgsqlParameter { Value = entry.DueAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    command.Parameters.Add(new NpgsqlParameter { Value = entry.Attempt });
                    command.Parameters.Add(new NpgsqlParameter { Value = entry.CueVersion });
                    break;
                default:
                    throw new InvalidOperationException($"Unknown advance {advance.GetType().Name}.");
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Gives claimed rows back at once (shutdown, or a publish that failed) instead of waiting out the lease.</summary>
    public async Task ReleaseAsync(IReadOnlyCollection<DueEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand(
            $"update {DueIndexTable.Name} set lease_until = null where id = any($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = entries.Select(e => e.Id).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records that the dispatch job ticked, for <c>/health</c>'s scheduler check.</summary>
    public async Task HeartbeatAsync(string instance, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            insert into {DueIndexTable.HeartbeatName} (instance, ticked_at) values ($1, $2)
            on conflict (instance) do update set ticked_at = excluded.ticked_at
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = instance });
        command.Parameters.Add(new NpgsqlParameter { Value = at.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
