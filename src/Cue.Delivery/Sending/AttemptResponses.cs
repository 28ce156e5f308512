using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Cue.Delivery.Sending;

/// <summary>
/// The receiver's response snippet of each attempt, handed from the delivery worker to the API through
/// the database rather than the bus: a response body may hold anything, and message bodies are shown to
/// operators in the broker's console (invariant 4). The API moves it into the attempt's event and
/// deletes the row in the same transaction.
/// </summary>
public sealed class AttemptResponses(NpgsqlDataSource dataSource)
{
    public const string Name = "cue.attempt_responses";

    public static Table Definition()
    {
        var table = new Table(new PostgresqlObjectName("cue", "attempt_responses", SchemaUtils.IdentifierUsage.General));
        table.AddColumn("execution_id", "uuid").AsPrimaryKey();
        table.AddColumn("attempt", "integer").AsPrimaryKey();
        table.AddColumn("body", "text").NotNull();
        return table;
    }

    public async Task SaveAsync(Guid executionId, int attempt, string body, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"insert into {Name} (execution_id, attempt, body) values ($1, $2, $3) on conflict (execution_id, attempt) do update set body = excluded.body");
        command.Parameters.Add(new NpgsqlParameter { Value = executionId, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt });
        command.Parameters.Add(new NpgsqlParameter { Value = body });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// <see cref="SaveAsync"/> for a caller that has already sent the attempt: a database fault (an exhausted
    /// pool, an outage) answers false instead of throwing, so the attempt is recorded without its snippet
    /// rather than sent again.
    /// </summary>
    public async Task<bool> TrySaveAsync(Guid executionId, int attempt, string body, CancellationToken cancellationToken)
    {
        try
        {
            await SaveAsync(executionId, attempt, body, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The stored snippets of every attempt of <paramref name="executionIds"/>, in one round trip.</summary>
    public async Task<Dictionary<(Guid ExecutionId, int Attempt), string>> FindManyAsync(Guid[] executionIds, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(Guid, int), string>();
        if (executionIds.Length == 0)
        {
            return found;
        }

        await using var command = dataSource.CreateCommand($"select execution_id, attempt, body from {Name} where execution_id = any($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = executionIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[(reader.GetGuid(0), reader.GetInt32(1))] = reader.GetString(2);
        }

        return found;
    }
}
