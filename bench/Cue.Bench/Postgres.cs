using System.Diagnostics;
using Npgsql;

namespace Cue.Bench;

/// <summary>The scratch database the raw limits run in (never the product's), and PostgreSQL's commit rate.</summary>
internal static class Postgres
{
    public const string ScratchDatabase = "cue_bench";

    /// <summary>The connection string of <see cref="ScratchDatabase"/> on the product's server, created if missing.</summary>
    public static async Task<string> EnsureScratchAsync(string product)
    {
        var scratch = new NpgsqlConnectionStringBuilder(product) { Database = ScratchDatabase, Pooling = true }.ConnectionString;
        await using var connection = new NpgsqlConnection(product);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = ScratchDatabase } } };
        if (await exists.ExecuteScalarAsync() is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {ScratchDatabase}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return scratch;
    }

    public static async Task<string> ShowAsync(string connectionString, string setting)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var show = new NpgsqlCommand($"SHOW {setting}", connection);
        return (string)(await show.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// <paramref name="connections"/> connections, each committing one small INSERT after another
    /// (autocommit: one transaction, one WAL flush each unless the server groups them) for
    /// <paramref name="duration"/>; commits per second over all of them.
    /// </summary>
    public static async Task<double> CommitsPerSecondAsync(string scratch, int connections, TimeSpan duration)
    {
        await using (var setup = new NpgsqlConnection(scratch))
        {
            await setup.OpenAsync();
            await using var create = new NpgsqlCommand(
                "CREATE TABLE IF NOT EXISTS bench_commits (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), note text NOT NULL); TRUNCATE bench_commits",
                setup);
            await create.ExecuteNonQueryAsync();
        }

        var opened = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < connections; i++)
            {
                var connection = new NpgsqlConnection(scratch);
                await connection.OpenAsync();
                opened.Add(connection);
            }

            long total = 0;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(opened.Select(async connection =>
            {
                await using var insert = new NpgsqlCommand("INSERT INTO bench_commits (note) VALUES ($1)", connection)
                {
                    Parameters = { new() { Value = "commit" } },
                };
                await insert.PrepareAsync();
                long done = 0;
                while (watch.Elapsed < duration)
                {
                    await insert.ExecuteNonQueryAsync();
                    done++;
                }

                Interlocked.Add(ref total, done);
            }));
            return total / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var connection in opened)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
