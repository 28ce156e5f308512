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

    public static Table Definition()
    {
        var table = new Table(new PostgresqlObjectName("cue", "attempt_responses", SchemaUtils.IdentifierUsage.General));
        table.AddColumn("execution_id", "uuid").AsPrimaryKey();
        table.AddColumn("attempt", "integer").AsPrimaryKey();
        table.AddColumn("body", "text").NotNull();
        return table;
    }

    public async Task SaveAsync(Guid executionId, int attempt, Sealed body, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"insert into {Name} (execution_id, attempt, body) values ($1, $2, $3) on conflict (execution_id, attempt) do update set body = excluded.body");
        command.Parameters.Add(new NpgsqlParameter { Value = executionId, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt });
        command.Parameters.Add(new NpgsqlParameter { Value = body.Value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Sealed?> FindAsync(Guid executionId, int attempt, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"select body from {Name} where execution_id = $1 and attempt = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = executionId, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt });
        return await command.ExecuteScalarAsync(cancellationToken) is string body ? new Sealed(body) : null;
    }
}
