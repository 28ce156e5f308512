using Npgsql;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Cue.Tests.Infrastructure;

/// <summary>
/// The real PostgreSQL and RabbitMQ the tests run against. Settings come from <c>CUE_TEST_POSTGRES</c>
/// and <c>CUE_TEST_RABBITMQ</c> (set by <c>./cue test</c>); only when both are unset are containers
/// started, which needs a Docker engine. A missing service fails the run: it is never a skip.
/// </summary>
public static class TestServices
{
    public const string PostgresVariable = "CUE_TEST_POSTGRES";
    public const string RabbitMqVariable = "CUE_TEST_RABBITMQ";
    public const string DatabaseVariable = "CUE_TEST_DATABASE";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgreSqlContainer? postgresContainer;
    private static RabbitMqContainer? rabbitContainer;
    private static (string Postgres, string RabbitMq)? resolved;

    /// <summary>A connection string to a fresh database for this run, and an amqp URI for an isolated vhost.</summary>
    public static async Task<(string Postgres, string RabbitMq)> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (resolved is { } done)
            {
                return done;
            }

            var (admin, rabbit) = await LocateAsync();
            var database = await CreateFreshDatabaseAsync(admin);
            resolved = (database, rabbit);
            return resolved.Value;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task StopContainersAsync()
    {
        if (postgresContainer is not null)
        {
            await postgresContainer.DisposeAsync();
        }

        if (rabbitContainer is not null)
        {
            await rabbitContainer.DisposeAsync();
        }
    }

    private static async Task<(string Admin, string RabbitMq)> LocateAsync()
    {
        var postgres = Environment.GetEnvironmentVariable(PostgresVariable);
        var rabbit = Environment.GetEnvironmentVariable(RabbitMqVariable);
        if (!string.IsNullOrEmpty(postgres) && !string.IsNullOrEmpty(rabbit))
        {
            return (postgres, rabbit);
        }

        if (!string.IsNullOrEmpty(postgres) || !string.IsNullOrEmpty(rabbit))
        {
            throw new InvalidOperationException($"Set both {PostgresVariable} and {RabbitMqVariable}, or neither (to use Testcontainers).");
        }

        try
        {
            postgresContainer = new PostgreSqlBuilder("postgres:15").Build();
            rabbitContainer = new RabbitMqBuilder("rabbitmq:4-management").Build();
            await Task.WhenAll(postgresContainer.StartAsync(), rabbitContainer.StartAsync());
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL/RabbitMQ for the tests: {PostgresVariable} and {RabbitMqVariable} are unset and no Docker engine answered. " +
                "Run the tests with './cue test', which starts both services and sets the variables.", ex);
        }

        return (postgresContainer.GetConnectionString(), rabbitContainer.GetConnectionString());
    }

    /// <summary>
    /// The test database's name: <c>cue_tests</c>, or <c>CUE_TEST_DATABASE</c> (lower-cased, as PostgreSQL folds an
    /// unquoted name) so parallel checkouts keep apart. A name it cannot use stops the run rather than falling back
    /// to the shared default, which another checkout's run would drop under this one.
    /// </summary>
    private static string DatabaseName =>
        Environment.GetEnvironmentVariable(DatabaseVariable) is not { Length: > 0 } given
            ? "cue_tests"
            : given.ToLowerInvariant() is var name && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')
                ? name
                : throw new InvalidOperationException($"{DatabaseVariable} must be letters, digits and underscores: '{given}'.");

    /// <summary>
    /// Drops a test's database, ending its sessions. The test's role may end its own sessions only: an
    /// autovacuum worker that has just started on the database (after a restore, say) makes PostgreSQL
    /// refuse with 42501 until it finishes, so that refusal is retried for up to 30 s.
    /// </summary>
    /// <param name="database">A name of the test's own (letters, digits, underscores): it is spliced into the statement.</param>
    public static async Task DropDatabaseAsync(NpgsqlConnection admin, string database)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"drop database if exists \"{database}\" with (force)", admin);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 60)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    private static async Task<string> CreateFreshDatabaseAsync(string admin)
    {
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await DropDatabaseAsync(connection, DatabaseName);
            await using var create = new NpgsqlCommand($"create database {DatabaseName}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = DatabaseName, Pooling = true }.ConnectionString;
    }
}
