using Cue.Api.Cues;
using Cue.Api.Executions;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.Api;

/// <summary>
/// <see cref="ExecutionTotals"/> and <see cref="CueTotals"/> on real PostgreSQL, in a database of its own: every maintained total (an
/// account's, by status, by cue and status) always equals <c>count(*)</c> over the matching rows, whatever
/// writes them, folded or not.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Counting_executions
{
    private const string Database = "cue_tests_execution_totals";
    private static readonly Guid Alice = Guid.Parse("0a11ce00-0000-4000-8000-000000000001");
    private static readonly Guid Bob = Guid.Parse("0b0b0000-0000-4000-8000-000000000002");
    private NpgsqlDataSource dataSource = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync()
    {
        var (postgres, _) = await TestServices.GetAsync();
        var admin = new NpgsqlConnectionStringBuilder(postgres) { Database = "postgres" }.ConnectionString;
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await TestServices.DropDatabaseAsync(connection, Database);
            await new NpgsqlCommand($"create database {Database}", connection).ExecuteNonQueryAsync();
        }

        dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(postgres) { Database = Database }.ConnectionString);
    }

    [OneTimeTearDown]
    public async Task DisposeAsync() => await dataSource.DisposeAsync();

    /// <summary>A table shaped like the execution view's where it matters: an id, the document, the duplicated columns counted.</summary>
    [SetUp]
    public async Task ResetAsync() => await RunAsync("""
        drop schema if exists cue cascade;
        create schema cue;
        create table cue.mt_doc_executionview (id text primary key, data jsonb not null, account_id uuid, cue_id varchar, status varchar);
        create table cue.mt_doc_cueview (id text primary key, data jsonb not null, account_id uuid, status varchar);
        """);

    [Test]
    public async Task Cue_counts_by_status_follow_creates_status_changes_and_deletes()
    {
        await RunAsync($"insert into cue.mt_doc_cueview select 'c' || n, '{{}}', '{Alice}', 'active' from generate_series(1, 4) n");
        await CueTotals.Groups.InstallAsync(dataSource, CancellationToken.None);
        await RunAsync($"insert into cue.mt_doc_cueview values ('b1', '{{}}', '{Bob}', 'active'), ('c5', '{{}}', '{Alice}', 'paused')");
        await RunAsync("update cue.mt_doc_cueview set status = 'completed' where id = 'c1'");
        await RunAsync("update cue.mt_doc_cueview set data = '{\"renamed\":true}' where id = 'c2'");
        await CueTotals.Groups.CompactAsync(dataSource, 2, CancellationToken.None);
        await RunAsync("update cue.mt_doc_cueview set status = 'paused' where id = 'c3'");
        await RunAsync("delete from cue.mt_doc_cueview where id = 'c4'");

        foreach (var (account, statuses) in new (Guid, string[]?)[]
                 {
                     (Alice, null), (Alice, ["active", "paused"]), (Alice, ["active"]), (Alice, ["completed"]), (Bob, ["active", "paused"]),
                 })
        {
            await using var command = dataSource.CreateCommand("select count(*) from cue.mt_doc_cueview where account_id = $1 and ($2::text[] is null or status = any($2))");
            command.Parameters.AddWithValue(account);
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)statuses ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            var expected = Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(await CueTotals.ReadAsync(dataSource, account, statuses, CancellationToken.None), Is.EqualTo(expected),
                $"{(account == Alice ? "Alice" : "Bob")} {(statuses is null ? "any" : string.Join('+', statuses))}");
        }

        Assert.That(await CueTotals.ReadAsync(dataSource, Alice, ["active", "paused"], CancellationToken.None), Is.EqualTo(3), "c2 active, c3 and c5 paused");
    }

    [Test]
    public async Task Installing_on_stored_rows_counts_them_once_and_a_second_install_changes_nothing()
    {
        await InsertAsync(Alice, 0, 3);
        await InsertAsync(Bob, 100, 2);

        await ExecutionTotals.Groups.InstallAsync(dataSource, CancellationToken.None);
        const string Function = "select oid from pg_proc where proname = 'execution_totals_changed'";
        var installed = await ScalarAsync(Function);
        Assert.That(installed, Is.Positive, "the trigger function exists");
        await ExecutionTotals.Groups.InstallAsync(dataSource, CancellationToken.None);

        await AssertExactAsync(expectedAlice: 3, expectedBob: 2);
        // A current installation is left as it is: replacing it would lock the table and the functions
        // another API instance is using.
        Assert.That(await ScalarAsync(Function), Is.EqualTo(installed));
    }

    [Test]
    public async Task Inserts_upserts_deletes_and_truncates_keep_every_total_exact_folded_or_not()
    {
        await ExecutionTotals.Groups.InstallAsync(dataSource, CancellationToken.None);

        await InsertAsync(Alice, 0, 5);
        await InsertAsync(Bob, 100, 1);
        await AssertExactAsync(expectedAlice: 5, expectedBob: 1);

        // The projection's upsert of an existing row is an update: nothing is counted twice.
        await RunAsync($"insert into cue.mt_doc_executionview (id, data, account_id, cue_id, status) values ('e0', '{{\"v\":2}}', '{Alice}', 'cue_a', 'success') on conflict (id) do update set data = excluded.data");
        await AssertExactAsync(expectedAlice: 5, expectedBob: 1);

        // Rows move between groups: a retry and its success, a failure, a row moved to another cue.
        await RunAsync("update cue.mt_doc_executionview set status = 'retrying' where id in ('e0', 'e1')");
        await AssertEveryGroupAsync();
        await RunAsync("update cue.mt_doc_executionview set status = 'success' where id = 'e0'");
        await RunAsync("update cue.mt_doc_executionview set status = 'failed', data = '{\"v\":3}' where id = 'e1'");
        await RunAsync("update cue.mt_doc_executionview set cue_id = 'cue_c' where id = 'e3'");
        await AssertExactAsync(expectedAlice: 5, expectedBob: 1);

        await ExecutionTotals.Groups.CompactAsync(dataSource, 1_000, CancellationToken.None);
        Assert.That(await ScalarAsync("select count(*) from cue.execution_total_deltas"), Is.Zero, "folded");
        await AssertExactAsync(expectedAlice: 5, expectedBob: 1);

        await RunAsync("delete from cue.mt_doc_executionview where id in ('e1', 'e2')");
        await AssertExactAsync(expectedAlice: 3, expectedBob: 1);

        // A rebuild may empty the table either way; both leave the totals exact.
        await RunAsync("truncate cue.mt_doc_executionview");
        await AssertExactAsync(expectedAlice: 0, expectedBob: 0);
        await InsertAsync(Alice, 200, 2);
        await ExecutionTotals.Groups.CompactAsync(dataSource, 1_000, CancellationToken.None);
        await AssertExactAsync(expectedAlice: 2, expectedBob: 0);
    }

    [Test]
    public async Task Concurrent_writers_and_a_compactor_folding_small_batches_lose_no_count()
    {
        await ExecutionTotals.Groups.InstallAsync(dataSource, CancellationToken.None);

        using var writing = new CancellationTokenSource();
        var folds = Task.Run(async () =>
        {
            var folded = 0;
            while (!writing.IsCancellationRequested)
            {
                folded += await ExecutionTotals.Groups.CompactAsync(dataSource, 7, CancellationToken.None);
            }

            return folded;
        });
        // Eight writers, each committing one-row and multi-row statements for both accounts.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                await InsertAsync(i % 2 == 0 ? Alice : Bob, (w * 1_000) + (i * 10), 1 + (i % 3));
            }
        })));
        await writing.CancelAsync();
        Assert.That(await folds, Is.Positive, "the compactor folded while the writers wrote");

        await AssertExactAsync(
            expectedAlice: (int)await ScalarAsync($"select count(*) from cue.mt_doc_executionview where account_id = '{Alice}'"),
            expectedBob: (int)await ScalarAsync($"select count(*) from cue.mt_doc_executionview where account_id = '{Bob}'"));
        Assert.That(await ScalarAsync("select count(*) from cue.mt_doc_executionview"), Is.EqualTo(8 * ((9 * 1) + (8 * 2) + (8 * 3))),
            "each writer inserted 1, 2 and 3 rows in turn, 25 times: 49 rows");
    }

    private async Task AssertExactAsync(int expectedAlice, int expectedBob)
    {
        Assert.Multiple(async () =>
        {
            Assert.That(await TotalAsync(Alice, null, null), Is.EqualTo(expectedAlice), "Alice");
            Assert.That(await TotalAsync(Bob, null, null), Is.EqualTo(expectedBob), "Bob");
            Assert.That(await TotalAsync(Guid.NewGuid(), null, null), Is.Zero, "an account with none");
            Assert.That(expectedAlice, Is.EqualTo(await CountAsync(Alice, null, null)), "the expectation itself matches the table");
            Assert.That(expectedBob, Is.EqualTo(await CountAsync(Bob, null, null)), "the expectation itself matches the table");
        });
        await AssertEveryGroupAsync();
    }

    /// <summary>Every cue and status combination the table holds, and some it does not, against <c>count(*)</c>.</summary>
    private async Task AssertEveryGroupAsync()
    {
        string?[] cues = [null, "cue_a", "cue_b", "cue_c", "cue_none"];
        string[]?[] statuses = [null, ["success"], ["failed"], ["success", "failed"], ["retrying"], ["pending", "success", "failed"]];
        foreach (var account in new[] { Alice, Bob })
        {
            foreach (var cue in cues)
            {
                foreach (var status in statuses)
                {
                    var label = $"{(account == Alice ? "Alice" : "Bob")}, cue {cue ?? "any"}, status {(status is null ? "any" : string.Join('+', status))}";
                    Assert.That(await TotalAsync(account, cue, status), Is.EqualTo(await CountAsync(account, cue, status)), label);
                }
            }
        }
    }

    private Task<int> TotalAsync(Guid account, string? cue, string[]? statuses) =>
        ExecutionTotals.ReadAsync(dataSource, account, cue, statuses, CancellationToken.None);

    private async Task<int> CountAsync(Guid account, string? cue, string[]? statuses)
    {
        await using var command = dataSource.CreateCommand(
            "select count(*) from cue.mt_doc_executionview where account_id = $1 and ($2::text is null or cue_id = $2) and ($3::text[] is null or status = any($3))");
        command.Parameters.AddWithValue(account);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)cue ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)statuses ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Inserts <paramref name="count"/> rows for the account in one statement, ids from <paramref name="first"/>
    /// on, spread over cues a–c and mostly successes (every third failed).
    /// </summary>
    private Task InsertAsync(Guid account, int first, int count) => RunAsync(
        $"insert into cue.mt_doc_executionview (id, data, account_id, cue_id, status) " +
        $"select 'e' || n, '{{}}', '{account}', 'cue_' || chr(97 + n % 3), case when n % 3 = 2 then 'failed' else 'success' end " +
        $"from generate_series({first}, {first + count - 1}) n");

    private async Task RunAsync(string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
