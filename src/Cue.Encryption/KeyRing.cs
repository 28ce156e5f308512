using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Cue.Encryption;

/// <summary>
/// The envelope keys: each account's 32-byte data key, stored only wrapped by the master key in
/// <see cref="KeyTables.AccountKeys"/> and kept unwrapped in memory once used; and the e-mail lookup key, wrapped
/// the same way, so re-wrapping under a new master key changes no blind index. Data is sealed with data keys only.
/// </summary>
public sealed class KeyRing(NpgsqlDataSource dataSource, IOptions<EncryptionOptions> options, TimeProvider time) : IDisposable
{
    /// <summary>Marten's <c>QueueSqlCommand</c> form, so a new account's key is stored in its registration's transaction.</summary>
    public const string InsertAccountKeySql =
        $"insert into {KeyTables.AccountKeys} (account_id, wrapped, master_key_id, created_at) values (?, ?, ?, ?)";

    private readonly ConcurrentDictionary<Guid, AccountCipher> accounts = new();
    private readonly SemaphoreSlim lookupGate = new(1, 1);
    private IReadOnlyList<MasterKey>? masters;
    private byte[]? emailIndexKey;

    private IReadOnlyList<MasterKey> Masters => masters ??= options.Value.Keys();

    /// <summary>
    /// A fresh data key for a new account: its cipher, and the wrapped key to store with <see cref="InsertAccountKeySql"/>.
    /// Call <see cref="Remember"/> once the registration is saved.
    /// </summary>
    public NewAccountKey CreateAccountKey(Guid accountId)
    {
        var key = RandomNumberGenerator.GetBytes(Envelope.KeyBytes);
        var master = Masters[0];
        return new NewAccountKey(new AccountCipher(accountId, key), master.Wrap(key, KeyTables.AccountContext(accountId)), master.Id, time.GetUtcNow());
    }

    public void Remember(AccountCipher cipher) => accounts[cipher.AccountId] = cipher;

    /// <summary>The account's cipher: from memory, or its wrapped key read once and unwrapped.</summary>
    public async ValueTask<AccountCipher> ForAccountAsync(Guid accountId, CancellationToken cancellationToken)
    {
        if (accounts.TryGetValue(accountId, out var known))
        {
            return known;
        }

        await using var command = dataSource.CreateCommand($"select wrapped, master_key_id from {KeyTables.AccountKeys} where account_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = accountId, NpgsqlDbType = NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException($"Account {accountId:D} has no data key in {KeyTables.AccountKeys}.");
        }

        var key = Unwrap((byte[])reader[0], (string)reader[1], KeyTables.AccountContext(accountId));
        return accounts.GetOrAdd(accountId, new AccountCipher(accountId, key));
    }

    /// <summary>The blind index of a normalised e-mail address: hex HMAC-SHA256 under the lookup key, what uniqueness is checked on.</summary>
    public async ValueTask<string> EmailIndexAsync(string normalisedEmail, CancellationToken cancellationToken)
    {
        var key = emailIndexKey ?? await LoadLookupKeyAsync(create: true, cancellationToken)
            ?? throw new InvalidOperationException("The e-mail lookup key could not be created.");
        return Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(normalisedEmail)));
    }

    /// <summary>
    /// At start-up: unwraps the lookup key (creating it when <paramref name="create"/>, the API's part), so a
    /// service given the wrong master key stops at once with a message naming the setting, not at its first request.
    /// </summary>
    public async Task CheckAsync(bool create, CancellationToken cancellationToken)
    {
        _ = Masters;
        if (!create)
        {
            await using var exists = dataSource.CreateCommand($"select to_regclass('{KeyTables.LookupKeys}') is not null");
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                // The API, which owns the schema, has not created it yet: nothing is wrapped, nothing to check.
                return;
            }
        }

        await LoadLookupKeyAsync(create, cancellationToken);
    }

    private async Task<byte[]?> LoadLookupKeyAsync(bool create, CancellationToken cancellationToken)
    {
        await lookupGate.WaitAsync(cancellationToken);
        try
        {
            if (emailIndexKey is not null)
            {
                return emailIndexKey;
            }

            var context = KeyTables.LookupContext(KeyTables.EmailIndexKey);
            if (create)
            {
                // Every API instance may try at once: the first insert wins and all of them read it back.
                var master = Masters[0];
                await using var insert = dataSource.CreateCommand(
                    $"insert into {KeyTables.LookupKeys} (name, wrapped, master_key_id, created_at) values ($1, $2, $3, $4) on conflict (name) do nothing");
                insert.Parameters.Add(new NpgsqlParameter { Value = KeyTables.EmailIndexKey });
                insert.Parameters.Add(new NpgsqlParameter { Value = master.Wrap(RandomNumberGenerator.GetBytes(Envelope.KeyBytes), context), NpgsqlDbType = NpgsqlDbType.Bytea });
                insert.Parameters.Add(new NpgsqlParameter { Value = master.Id });
                insert.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var select = dataSource.CreateCommand($"select wrapped, master_key_id from {KeyTables.LookupKeys} where name = $1");
            select.Parameters.Add(new NpgsqlParameter { Value = KeyTables.EmailIndexKey });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            emailIndexKey = Unwrap((byte[])reader[0], (string)reader[1], context);
            return emailIndexKey;
        }
        finally
        {
            lookupGate.Release();
        }
    }

    public void Dispose() => lookupGate.Dispose();

    private byte[] Unwrap(byte[] wrapped, string masterKeyId, string context)
    {
        var master = Masters.FirstOrDefault(m => m.Id == masterKeyId)
            ?? throw new InvalidOperationException(
                $"The stored keys are wrapped under master key {masterKeyId}, but '{EncryptionOptions.MasterKeySetting}' is master key {Masters[0].Id}" +
                (Masters.Count > 1 ? $" and '{EncryptionOptions.PreviousMasterKeySetting}' is {Masters[1].Id}" : "") +
                ". Start the service with the master key the data was written under (after a rotation, the new one).");
        try
        {
            return master.Unwrap(wrapped, context);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"A wrapped key ({context.Split('|')[0]}) does not open under master key {master.Id}: it was changed or belongs elsewhere.", ex);
        }
    }
}

/// <summary>A new account's data key: its cipher, and what to store (the key wrapped, under which master key, when).</summary>
public sealed record NewAccountKey(AccountCipher Cipher, byte[] Wrapped, string MasterKeyId, DateTimeOffset CreatedAt);

public static class EncryptionHosting
{
    /// <summary>
    /// The <c>Encryption</c> options (validated at start), the key ring, and a start-up check that the master key
    /// opens the stored keys. <paramref name="ownsKeys"/>: this service creates the lookup key (the API).
    /// Needs an <see cref="NpgsqlDataSource"/> and a <see cref="TimeProvider"/> in the container.
    /// </summary>
    public static IServiceCollection AddCueEncryption(this IServiceCollection services, bool ownsKeys)
    {
        services.AddOptions<EncryptionOptions>().BindConfiguration(EncryptionOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EncryptionOptions>, EncryptionOptionsValidator>();
        services.AddSingleton<KeyRing>();
        services.AddHostedService(sp => new KeyRingCheck(sp.GetRequiredService<KeyRing>(), ownsKeys, sp.GetRequiredService<ILogger<KeyRing>>()));
        return services;
    }

    private sealed class KeyRingCheck(KeyRing keys, bool ownsKeys, ILogger logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                await keys.CheckAsync(ownsKeys, cancellationToken);
            }
            catch (NpgsqlException ex) when (!ownsKeys)
            {
                // A database that is not there yet is the readiness check's business, not a reason to exit: the
                // key is checked again when it is first used. A wrong master key still stops the service here.
                logger.LogWarning("Could not check the master key against the stored keys at start-up: {Reason}", ex.Message);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
