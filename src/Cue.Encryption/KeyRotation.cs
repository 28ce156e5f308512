using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace Cue.Encryption;

/// <summary>
/// Re-wraps every stored key (the accounts' data keys and the lookup keys) from the previous master key to the
/// new one, in one transaction. The data keys themselves do not change, so no event, document or snippet is
/// touched and no blind index moves. Running it again after it succeeded changes nothing.
/// </summary>
public static class KeyRotation
{
    public sealed record Result(int Rewrapped, int AlreadyCurrent, string From, string To);

    public static async Task<Result> RotateAsync(NpgsqlDataSource dataSource, MasterKey next, MasterKey previous, CancellationToken cancellationToken)
    {
        if (next.Id == previous.Id)
        {
            throw new InvalidOperationException("The new and the previous master key are the same key.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = new List<(string Table, string KeyColumn, object Key, string Context, byte[] Wrapped, string MasterKeyId)>();
        if (await TablesExistAsync(connection, cancellationToken))
        {
            await using (var accounts = new NpgsqlCommand($"select account_id, wrapped, master_key_id from {KeyTables.AccountKeys} for update", connection, transaction))
            await using (var reader = await accounts.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var id = reader.GetGuid(0);
                    rows.Add((KeyTables.AccountKeys, "account_id", id, KeyTables.AccountContext(id), (byte[])reader[1], reader.GetString(2)));
                }
            }

            await using (var lookups = new NpgsqlCommand($"select name, wrapped, master_key_id from {KeyTables.LookupKeys} for update", connection, transaction))
            await using (var reader = await lookups.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var name = reader.GetString(0);
                    rows.Add((KeyTables.LookupKeys, "name", name, KeyTables.LookupContext(name), (byte[])reader[1], reader.GetString(2)));
                }
            }
        }

        var strangers = rows.Where(r => r.MasterKeyId != next.Id && r.MasterKeyId != previous.Id).Select(r => r.MasterKeyId).Distinct().ToList();
        if (strangers.Count > 0)
        {
            throw new InvalidOperationException(
                $"Some keys are wrapped under master key(s) {string.Join(", ", strangers)}, which is neither the previous key ({previous.Id}) nor the new one ({next.Id}); nothing was changed.");
        }

        var rewrapped = 0;
        foreach (var row in rows.Where(r => r.MasterKeyId == previous.Id))
        {
            byte[] key;
            try
            {
                key = previous.Unwrap(row.Wrapped, row.Context);
            }
            catch (CryptographicException ex)
            {
                throw new InvalidOperationException($"A key in {row.Table} ({row.Context}) does not open under the previous master key; nothing was changed.", ex);
            }

            await using var update = new NpgsqlCommand(
                $"update {row.Table} set wrapped = $1, master_key_id = $2 where {row.KeyColumn} = $3", connection, transaction);
            update.Parameters.Add(new NpgsqlParameter { Value = next.Wrap(key, row.Context), NpgsqlDbType = NpgsqlDbType.Bytea });
            update.Parameters.Add(new NpgsqlParameter { Value = next.Id });
            update.Parameters.Add(new NpgsqlParameter { Value = row.Key });
            await update.ExecuteNonQueryAsync(cancellationToken);
            CryptographicOperations.ZeroMemory(key);
            rewrapped++;
        }

        await transaction.CommitAsync(cancellationToken);
        return new Result(rewrapped, rows.Count - rewrapped, previous.Id, next.Id);
    }

    private static async Task<bool> TablesExistAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"select to_regclass('{KeyTables.AccountKeys}') is not null and to_regclass('{KeyTables.LookupKeys}') is not null", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }
}
