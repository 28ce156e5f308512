using Npgsql;

namespace Cue.Api.Executions;

/// <summary>
/// Execution counts kept by PostgreSQL itself, so that <c>total</c> (the contract asks for an exact count)
/// costs a few index lookups instead of counting every match: 30–60 ms for an account's million rows here,
/// 45–70 ms for one cue's 250,000.
/// <para>
/// Each count is a group: the whole account (<c>*</c>, <c>*</c>), the account by status (<c>*</c>, status)
/// and one cue by status (cue, status). Row triggers on the execution view's table append signed delta
/// rows for every group a row enters or leaves (an insert, a delete, an update that changes its cue or
/// status); a truncate clears everything. Appending never updates a shared row, so concurrent audit
/// batches never wait on each other or deadlock, as a counter row per account would under a burst. The
/// compactor (<see cref="ExecutionTotalsCompactor"/>) folds the deltas into one row per group in a single
/// statement, and a reader sums the group's row and its deltas not folded yet in one snapshot, so a total
/// is exact at every instant. Because the triggers see every row the projections write, a rebuild of the
/// projections (invariant 6) leaves the totals right with no step of its own.
/// </para>
/// </summary>
internal static class ExecutionTotals
{
    /// <summary>The group key standing for "any cue" or "any status"; cue ids and statuses never equal it.</summary>
    public const string Any = "*";

    private const string ViewTable = "cue.mt_doc_executionview";

    // One transaction under an advisory lock: API instances starting together install once, and on a
    // database that already holds executions the totals are counted while the table is locked against
    // writes, so no insert falls between the count and the trigger.
    private const string InstallSql = $$"""
        select pg_advisory_xact_lock(hashtext('cue.execution_totals'));
        create table if not exists cue.execution_totals (
          account_id uuid not null, cue_id text not null, status text not null, total bigint not null,
          primary key (account_id, cue_id, status));
        create table if not exists cue.execution_total_deltas (
          id bigserial primary key, account_id uuid not null, cue_id text not null, status text not null, delta bigint not null);
        create index if not exists ix_execution_total_deltas_group on cue.execution_total_deltas (account_id, cue_id, status);
        create or replace function cue.execution_totals_count(account uuid, cue text, state text, delta bigint) returns void
        language sql as $$
          insert into cue.execution_total_deltas (account_id, cue_id, status, delta) values
            (account, '*', '*', delta), (account, '*', coalesce(state, ''), delta), (account, coalesce(cue, ''), coalesce(state, ''), delta);
        $$;
        create or replace function cue.execution_totals_changed() returns trigger language plpgsql as $$
        begin
          if tg_op in ('UPDATE', 'DELETE') and old.account_id is not null then
            perform cue.execution_totals_count(old.account_id, old.cue_id, old.status, -1);
          end if;
          if tg_op in ('UPDATE', 'INSERT') and new.account_id is not null then
            perform cue.execution_totals_count(new.account_id, new.cue_id, new.status, 1);
          end if;
          return null;
        end $$;
        create or replace function cue.execution_totals_truncated() returns trigger language plpgsql as $$
        begin
          truncate cue.execution_totals, cue.execution_total_deltas;
          return null;
        end $$;
        do $$
        begin
          if not exists (select 1 from pg_trigger where tgname = 'execution_totals_insert' and tgrelid = '{{ViewTable}}'::regclass) then
            lock table {{ViewTable}} in share row exclusive mode;
            truncate cue.execution_totals, cue.execution_total_deltas;
            insert into cue.execution_totals (account_id, cue_id, status, total)
              select account_id,
                     case when grouping(cue_id) = 1 then '*' else coalesce(cue_id, '') end,
                     case when grouping(status) = 1 then '*' else coalesce(status, '') end,
                     count(*)
              from {{ViewTable}} where account_id is not null
              group by grouping sets ((account_id), (account_id, status), (account_id, cue_id, status));
          end if;
        end $$;
        -- Row triggers, not statement triggers with transition tables: the projection writes one row per
        -- statement, and a transition table's set-up cost 0.24 ms a statement (the 10,000 burst took 14 s
        -- to record instead of 8). An update fires only when the row changes group.
        create or replace trigger execution_totals_insert after insert on {{ViewTable}}
          for each row execute function cue.execution_totals_changed();
        create or replace trigger execution_totals_update after update on {{ViewTable}}
          for each row when (old.account_id is distinct from new.account_id or old.cue_id is distinct from new.cue_id
                             or old.status is distinct from new.status)
          execute function cue.execution_totals_changed();
        create or replace trigger execution_totals_delete after delete on {{ViewTable}}
          for each row execute function cue.execution_totals_changed();
        create or replace trigger execution_totals_truncate after truncate on {{ViewTable}}
          for each statement execute function cue.execution_totals_truncated();
        """;
    private const string ReadSql = """
        select coalesce((select sum(total) from cue.execution_totals
                         where account_id = $1 and cue_id = $2 and ($3::text[] is null or status = any($3))), 0)
             + coalesce((select sum(delta) from cue.execution_total_deltas
                         where account_id = $1 and cue_id = $2 and ($3::text[] is null or status = any($3))), 0)
        """;

    // Skip-locked: two compactors (two API instances) never fold the same delta twice, and never wait.
    private const string CompactSql = """
        with folded as (
          delete from cue.execution_total_deltas
          where id in (select id from cue.execution_total_deltas order by id limit $1 for update skip locked)
          returning account_id, cue_id, status, delta),
        sums as (select account_id, cue_id, status, sum(delta) as delta from folded group by account_id, cue_id, status)
        insert into cue.execution_totals as t (account_id, cue_id, status, total)
          select account_id, cue_id, status, delta from sums order by account_id, cue_id, status
        on conflict (account_id, cue_id, status) do update set total = t.total + excluded.total
        """;

    /// <summary>Creates the tables and triggers, counting the rows already stored, unless they exist.</summary>
    public static async Task InstallAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(InstallSql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The account's executions of one cue (or any, when <paramref name="cueId"/> is null) in the given
    /// statuses (or any, when null), exactly as <c>count(*)</c> over the matching rows would give.
    /// </summary>
    public static async Task<int> ReadAsync(NpgsqlDataSource dataSource, Guid accountId, string? cueId, IReadOnlyList<string>? statuses, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ReadSql);
        command.Parameters.AddWithValue(accountId);
        command.Parameters.AddWithValue(cueId ?? Any);
        // One cue in any status is the sum of its status groups (there is no "any status" group per cue).
        string[]? inStatuses = statuses is not null ? [.. statuses.Distinct(StringComparer.Ordinal)] : cueId is null ? [Any] : null;
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)inStatuses ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Folds up to <paramref name="batch"/> deltas into the group rows; returns how many groups it changed.</summary>
    public static async Task<int> CompactAsync(NpgsqlDataSource dataSource, int batch, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CompactSql);
        command.Parameters.AddWithValue(batch);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
