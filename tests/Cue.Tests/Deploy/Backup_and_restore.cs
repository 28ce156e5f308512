using System.Diagnostics;
using System.Text;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.Deploy;

/// <summary>
/// <c>./cue backup</c> and <c>./cue restore</c>, run as the operator runs them (the script itself), against
/// the shared test stack's database: the dump on disk is AES-256 ciphertext, it restores into an empty
/// database with the cues in it, and a wrong key restores nothing. The script takes its connection from
/// PG* variables and its key from CUE_BACKUP_KEY, so no .cue state of any checkout is involved.
/// </summary>
[TestFixture]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a bash script with gpg and the PostgreSQL client tools
public sealed class Backup_and_restore
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private string scratch = "";

    [SetUp]
    public void CreateScratch()
    {
        scratch = Path.Combine(TestContext.CurrentContext.WorkDirectory, "backup-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
    }

    [TearDown]
    public void RemoveScratch() => Directory.Delete(scratch, recursive: true);

    [Test]
    public async Task A_backup_is_ciphertext_that_restores_the_cues_into_an_empty_database_and_a_wrong_key_restores_nothing()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        var account = await api.RegisterAsync();
        var marker = "backup-marker-" + Guid.NewGuid().ToString("N");
        for (var i = 0; i < 3; i++)
        {
            var created = await api.PostAsync("/v1/cues", account.ApiKey, new
            {
                name = $"backup-{i}-{Guid.NewGuid().ToString("N")[..8]}",
                schedule = new { type = "recurring", cron = "0 0 1 1 *", timezone = "UTC" },
                callback = new { url = "http://127.0.0.1:9/" },
                payload = new { marker = $"{marker}-{i}" },
            });
            Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        }

        var key = Path.Combine(scratch, "backup.key");
        await File.WriteAllTextAsync(key, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var dump = Path.Combine(scratch, "cue.dump.gpg");
        var restored = "cue_restore_" + Guid.NewGuid().ToString("N")[..12];
        var refused = "cue_restore_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            var backup = await RunCueAsync(stack.Postgres, key, "backup", dump);
            Assert.That(backup.ExitCode, Is.Zero, backup.Output);
            Assert.That(backup.Output, Does.Not.Contain(await File.ReadAllTextAsync(key)), "the key is never printed");

            var bytes = await File.ReadAllBytesAsync(dump);
            var asText = Encoding.UTF8.GetString(bytes);
            Assert.Multiple(() =>
            {
                Assert.That(bytes, Has.Length.GreaterThan(1000), "a whole database, not an empty file");
                Assert.That(Encoding.ASCII.GetString(bytes, 0, 5), Is.Not.EqualTo("PGDMP"), "not a plain pg_dump");
                Assert.That(asText, Does.Not.Contain(marker), "no payload in clear");
                Assert.That(asText, Does.Not.Contain(account.Email), "no e-mail in clear");
                Assert.That(asText, Does.Not.Contain("mt_doc_cueview"), "no schema in clear");
                Assert.That(File.GetUnixFileMode(dump), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            });

            // A wrong key: non-zero, and the database is not even created.
            var wrongKey = Path.Combine(scratch, "wrong.key");
            await File.WriteAllTextAsync(wrongKey, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
            var wrong = await RunCueAsync(stack.Postgres, wrongKey, "restore", dump, "--into", refused);
            Assert.That(wrong.ExitCode, Is.Not.Zero, wrong.Output);
            Assert.That(await DatabaseExistsAsync(stack.Postgres, refused), Is.False, "a wrong key restored something: " + wrong.Output);

            // The live database itself is refused without --force.
            var live = new NpgsqlConnectionStringBuilder(stack.Postgres).Database!;
            var overLive = await RunCueAsync(stack.Postgres, key, "restore", dump, "--into", live);
            Assert.That(overLive.ExitCode, Is.Not.Zero, overLive.Output);
            Assert.That(overLive.Output, Does.Contain("refusing"));

            var restore = await RunCueAsync(stack.Postgres, key, "restore", dump, "--into", restored);
            Assert.That(restore.ExitCode, Is.Zero, restore.Output);

            // Payloads are sealed at rest, so the restored rows hold ciphertext; an API on the restored database, with
            // the same master key, reads the cues back. Its broker is unreachable on purpose: it must not consume the
            // shared stack's messages into another database, and reads do not need it.
            var views = await CueViewsAsync(stack.Postgres, restored);
            Assert.That(views, Has.Count.GreaterThanOrEqualTo(3), "cue rows in the restored database");
            Assert.That(views, Has.None.Contain(marker), "payloads in clear in the restored database");
            var restoredConnection = new NpgsqlConnectionStringBuilder(stack.Postgres) { Database = restored }.ConnectionString;
            await using var reader = new CueProcess("Cue.Api", CueStack.FreePort(), CueStack.ServiceEnvironment(restoredConnection, "amqp://cue:unused@127.0.0.1:1/"));
            await reader.StartAsync();
            using var restoredApi = new CueApiClient(reader.BaseAddress);
            var cues = await restoredApi.GetAsync("/v1/cues?limit=100", account.ApiKey);
            Assert.That(cues.Status, Is.EqualTo(200), cues.Json.ToString());
            var mine = cues.Json.GetProperty("cues").EnumerateArray().ToList();
            Assert.Multiple(() =>
            {
                Assert.That(mine.Select(c => c.GetProperty("payload").GetProperty("marker").GetString()),
                    Is.EquivalentTo(Enumerable.Range(0, 3).Select(i => $"{marker}-{i}")), "the three cues, read back through the API from the restored database");
                Assert.That(mine.Select(c => c.GetProperty("status").GetString()), Has.All.EqualTo("active"));
            });
        }
        finally
        {
            await DropDatabaseAsync(stack.Postgres, restored);
            await DropDatabaseAsync(stack.Postgres, refused);
        }
    }

    /// <summary>Runs <c>./cue</c> with the test database as PG* variables and the given key file; stdout and stderr together.</summary>
    private static async Task<(int ExitCode, string Output)> RunCueAsync(string connectionString, string keyFile, params string[] arguments)
    {
        var connection = new NpgsqlConnectionStringBuilder(connectionString);
        var info = new ProcessStartInfo("/bin/bash", [Path.Combine(Paths.RepositoryRoot, "cue"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["PGHOST"] = connection.Host;
        info.Environment["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["PGUSER"] = connection.Username;
        info.Environment["PGPASSWORD"] = connection.Password;
        info.Environment["PGDATABASE"] = connection.Database;
        info.Environment["CUE_BACKUP_KEY"] = keyFile;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Patience);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    private static NpgsqlConnection Connect(string connectionString, string database) =>
        new(new NpgsqlConnectionStringBuilder(connectionString) { Database = database, Pooling = false }.ConnectionString);

    private static async Task<List<string>> CueViewsAsync(string connectionString, string database)
    {
        await using var connection = Connect(connectionString, database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select data::text from cue.mt_doc_cueview", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var views = new List<string>();
        while (await reader.ReadAsync())
        {
            views.Add(reader.GetString(0));
        }

        return views;
    }

    private static async Task<bool> DatabaseExistsAsync(string connectionString, string database)
    {
        await using var connection = Connect(connectionString, "postgres");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from pg_database where datname = $1", connection) { Parameters = { new() { Value = database } } };
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    private static async Task DropDatabaseAsync(string connectionString, string database)
    {
        await using var connection = Connect(connectionString, "postgres");
        await connection.OpenAsync();
        // the name is ours (cue_restore_ and hex), so it can be spliced in
        await TestServices.DropDatabaseAsync(connection, database);
    }
}
