using System.Threading.Channels;
using Cue.Contracts;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Cue.Delivery.Sending;

/// <summary>
/// The receiver's response snippet of each attempt, handed from the delivery worker to the API through
/// the database rather than the bus: a response body may hold anything, and message bodies are shown to
/// operators in the broker's console (invariant 4). The body is sealed with the account's data key before it
/// is written, so the row holds ciphertext; the API moves it unchanged into the attempt's event and deletes the
/// row in the same transaction.
/// </summary>
public sealed class AttemptResponses(NpgsqlDataSource dataSource)
{
    public const string Name = "cue.attempt_responses";

    private const int MaxGroup = 256;
    private readonly Channel<PendingSave> pending = Channel.CreateUnbounded<PendingSave>(new UnboundedChannelOptions { SingleReader = true });
    private int writerStarted;

    private sealed record PendingSave(Guid ExecutionId, int Attempt, string Body, TaskCompletionSource<bool> Saved);

    public static Table Definition()
    {
        var table = new Table(new PostgresqlObjectName("cue", "attempt_responses", SchemaUtils.IdentifierUsage.General));
        table.AddColumn("execution_id", "uuid").AsPrimaryKey();
        table.AddColumn("attempt", "integer").AsPrimaryKey();
        table.AddColumn("body", "text").NotNull();
        return table;
    }

    /// <summary>
    /// Stores the receiver's response snippet of an attempt, for a caller that has already sent it: a
    /// database fault (an exhausted pool, an outage) answers false instead of throwing, so the attempt is
    /// recorded without its snippet rather than sent again. Saves are group-committed: the attempts that finish while one insert runs
    /// share the next one (one statement and one WAL flush for the group, instead of one commit per attempt).
    /// </summary>
    public async Task<bool> TrySaveAsync(Guid executionId, int attempt, Sealed body, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref writerStarted, 1) == 0)
        {
            _ = Task.Run(WriteGroupsAsync, CancellationToken.None);
        }

        var save = new PendingSave(executionId, attempt, body.Value, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        pending.Writer.TryWrite(save);
        try
        {
            return await save.Saved.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task WriteGroupsAsync()
    {
        var group = new List<PendingSave>(MaxGroup);
        while (await pending.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroup && pending.Reader.TryRead(out var save))
            {
                group.Add(save);
            }

            bool saved;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await SaveGroupAsync(group, timeout.Token);
                saved = true;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                saved = false;
            }

            foreach (var save in group)
            {
                save.Saved.TrySetResult(saved);
            }
        }
    }

    private async Task SaveGroupAsync(List<PendingSave> group, CancellationToken cancellationToken)
    {
        // One row per key: a redelivered attempt saved twice in one group keeps the later body.
        var rows = group.GroupBy(s => (s.ExecutionId, s.Attempt)).Select(g => g.Last()).ToList();
        await using var command = dataSource.CreateCommand(
            $"""
            insert into {Name} (execution_id, attempt, body)
            select * from unnest($1::uuid[], $2::integer[], $3::text[])
            on conflict (execution_id, attempt) do update set body = excluded.body
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.ExecutionId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Attempt).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Body).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The stored snippets of every attempt of <paramref name="executionIds"/>, in one round trip.</summary>
    public async Task<Dictionary<(Guid ExecutionId, int Attempt), Sealed>> FindManyAsync(Guid[] executionIds, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(Guid, int), Sealed>();
        if (executionIds.Length == 0)
        {
            return found;
        }

        await using var command = dataSource.CreateCommand($"select execution_id, attempt, body from {Name} where execution_id = any($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = executionIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[(reader.GetGuid(0), reader.GetInt32(1))] = new Sealed(reader.GetString(2));
        }

        return found;
    }
}
