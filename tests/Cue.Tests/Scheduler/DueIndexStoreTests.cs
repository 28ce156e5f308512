using Cue.Scheduler.DueIndex;
using Cue.Tests.Infrastructure;
using Npgsql;
using Weasel.Postgresql.Tables;

namespace Cue.Tests.Scheduler;

/// <summary>The due index's batched claim on real PostgreSQL, in a database of its own so no running scheduler interferes.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Claiming_due_rows
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 20, 12, 0, 0, TimeSpan.Zero);
    private NpgsqlDataSource dataSource = null!;
    private DueIndexStore store = null!;

    [OneTimeSetUp]
    public async Task CreateDatabaseAsync()
    {
        var (postgres, _) = await TestServices.GetAsync();
        var builder = new NpgsqlConnectionStringBuilder(postgres);
        var admin = new NpgsqlConnectionStringBuilder(postgres) { Database = "postgres" }.ConnectionString;
        builder.Database = "cue_tests_due_index";
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await TestServices.DropDatabaseAsync(connection, "cue_tests_due_index");
            await new NpgsqlCommand("create database cue_tests_due_index", connection).ExecuteNonQueryAsync();
        }

        dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        await using var create = dataSource.CreateCommand(
            "create schema cue;\n" + DueIndexTable.Definition().ToBasicCreateTableSql() + "\n" + DueIndexTable.HeartbeatDefinition().ToBasicCreateTableSql());
        await create.ExecuteNonQueryAsync();
        store = new DueIndexStore(dataSource);
    }

    [OneTimeTearDown]
    public async Task DisposeAsync() => await dataSource.DisposeAsync();

    [SetUp]
    public async Task ClearAsync() => await dataSource.CreateCommand("delete from cue.due_index").ExecuteNonQueryAsync();

    private async Task InsertAsync(string id, DateTimeOffset due, long version = 1)
    {
        await using var command = dataSource.CreateCommand(
            "insert into cue.due_index (id, cue_id, kind, due_at, schedule_type, cron, timezone, catch_up, cue_version) values ($1, $2, 0, $3, 'recurring', '* * * * *', 'UTC', 'run_once_if_missed', $4)");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = id[2..] });
        command.Parameters.Add(new NpgsqlParameter { Value = due });
        command.Parameters.Add(new NpgsqlParameter { Value = version });
        await command.ExecuteNonQueryAsync();
    }

    [Test]
    public async Task Claims_only_rows_due_within_the_horizon_oldest_first_and_leases_them()
    {
        await InsertAsync("o:late", T0.AddSeconds(10));
        await InsertAsync("o:b", T0.AddSeconds(1));
        await InsertAsync("o:a", T0);

        var claimed = await store.ClaimAsync(T0, T0.AddSeconds(2), T0.AddSeconds(30), 100, CancellationToken.None);
        Assert.That(claimed.Select(c => c.Id), Is.EqualTo(new[] { "o:a", "o:b" }));

        // Leased rows are not claimed again until the lease runs out.
        var again = await store.ClaimAsync(T0.AddSeconds(1), T0.AddSeconds(3), T0.AddSeconds(31), 100, CancellationToken.None);
        Assert.That(again, Is.Empty);
        var afterLease = await store.ClaimAsync(T0.AddSeconds(31), T0.AddSeconds(33), T0.AddSeconds(60), 100, CancellationToken.None);
        Assert.That(afterLease.Select(c => c.Id), Is.EqualTo(new[] { "o:a", "o:b", "o:late" }));
    }

    [Test]
    public async Task Two_claimers_at_once_never_get_the_same_row()
    {
        for (var i = 0; i < 500; i++)
        {
            await InsertAsync($"o:c{i:D4}", T0);
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            store.ClaimAsync(T0, T0.AddSeconds(1), T0.AddSeconds(30), 150, CancellationToken.None)));
        var ids = claims.SelectMany(c => c.Select(e => e.Id)).ToList();
        Assert.That(ids, Is.Unique);
        Assert.That(ids, Has.Count.EqualTo(500));
    }

    [Test]
    public async Task An_advance_does_not_override_a_row_the_event_log_changed_meanwhile()
    {
        await InsertAsync("o:moved", T0);
        await InsertAsync("o:kept", T0);
        var claimed = await store.ClaimAsync(T0, T0.AddSeconds(1), T0.AddSeconds(30), 10, CancellationToken.None);

        // The cue "moved" was changed by a newer event after the claim (its version went up).
        await dataSource.CreateCommand("update cue.due_index set cue_version = 2, due_at = due_at + interval '1 hour' where id = 'o:moved'").ExecuteNonQueryAsync();
        await store.AdvanceAsync(claimed.Select(c => (Advance)new Advance.MoveTo(c, T0.AddMinutes(1))).ToList(), CancellationToken.None);

        var rows = new Dictionary<string, DateTimeOffset>();
        await using var reader = await dataSource.CreateCommand("select id, due_at from cue.due_index").ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = reader.GetFieldValue<DateTimeOffset>(1);
        }

        Assert.Multiple(() =>
        {
            Assert.That(rows["o:kept"], Is.EqualTo(T0.AddMinutes(1)));
            Assert.That(rows["o:moved"], Is.EqualTo(T0.AddHours(1)));
        });
    }

    [Test]
    public async Task One_advance_moves_and_removes_many_rows_but_only_those_still_as_claimed()
    {
        for (var i = 0; i < 6; i++)
        {
            await InsertAsync($"o:{i}", T0);
        }

        var claimed = await store.ClaimAsync(T0, T0.AddSeconds(1), T0.AddSeconds(30), 10, CancellationToken.None);
        // o:2 (to be moved) and o:5 (to be removed) were changed by newer events after the claim.
        await dataSource.CreateCommand("update cue.due_index set cue_version = 2, due_at = due_at + interval '1 hour' where id in ('o:2', 'o:5')").ExecuteNonQueryAsync();
        await store.AdvanceAsync(
            [.. claimed.Select(c => c.Id is "o:0" or "o:1" or "o:2" ? (Advance)new Advance.MoveTo(c, T0.AddMinutes(1)) : new Advance.Remove(c))],
            CancellationToken.None);

        var rows = new Dictionary<string, (DateTimeOffset Due, bool Leased)>();
        await using var reader = await dataSource.CreateCommand("select id, due_at, lease_until is not null from cue.due_index").ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = (reader.GetFieldValue<DateTimeOffset>(1), reader.GetBoolean(2));
        }

        Assert.That(rows, Is.EquivalentTo(new Dictionary<string, (DateTimeOffset, bool)>
        {
            ["o:0"] = (T0.AddMinutes(1), false),
            ["o:1"] = (T0.AddMinutes(1), false),
            ["o:2"] = (T0.AddHours(1), true),
            ["o:5"] = (T0.AddHours(1), true),
        }));
    }

    [Test]
    public async Task Released_rows_can_be_claimed_again_at_once()
    {
        await InsertAsync("o:r", T0);
        var claimed = await store.ClaimAsync(T0, T0.AddSeconds(1), T0.AddSeconds(30), 10, CancellationToken.None);
        await store.ReleaseAsync(claimed, CancellationToken.None);
        var again = await store.ClaimAsync(T0, T0.AddSeconds(1), T0.AddSeconds(30), 10, CancellationToken.None);
        Assert.That(again.Select(c => c.Id), Is.EqualTo(new[] { "o:r" }));
    }
}
