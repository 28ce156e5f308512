using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// <c>Cue.Api projections rebuild</c>, run as the operator runs it (a process on the API's build output),
/// replays the event log into every view: what the API answers afterwards is byte for byte what it
/// answered before, even for views deleted outright. The due index is not rebuilt: the rows the dispatch
/// job advanced or removed stay as they are, so nothing fires twice.
/// </summary>
[TestFixture]
// The rebuild empties each view for a moment: no other test may read or write while it runs.
[NonParallelizable]
public sealed class Rebuilding_projections
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Test]
    public async Task Rebuilding_reproduces_executions_cues_and_attempts_byte_for_byte_and_fires_nothing_again()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        await using var ok = await WebhookReceiver.StartAsync();
        await using var failing = await WebhookReceiver.StartAsync(500);

        // Once cues that fire and finish (one after a retry), then outcomes on three of them.
        var delivered = await DueExecutions.CreateAsync(api, stack,
        [
            new OnceCue("first", ok.Url),
            new OnceCue("second", ok.Url, VerificationMode: "require_external_id"),
            new OnceCue("third", ok.Url, Offset: TimeSpan.FromMilliseconds(300)),
            new OnceCue("retried", failing.Url, MaxAttempts: 2),
        ]);
        var key = delivered.Account.ApiKey;
        string Execution(string name) => delivered.ByKey[name].GetProperty("id").GetString()!;
        await ReportAsync(api, key, Execution("first"), new { success = true, result = "done", metadata = new { rows = 3 } });
        await ReportAsync(api, key, Execution("second"), new { success = true, external_id = "job-7" });
        await ReportAsync(api, key, Execution("third"), new { success = false, error = "partial" });

        // Two recurring cues far from due: one patched and fired by hand, one deleted.
        var kept = await CreateRecurringAsync(api, key, ok.Url);
        var dropped = await CreateRecurringAsync(api, key, ok.Url);
        var patched = await api.SendAsync(HttpMethod.Patch, $"/v1/cues/{kept}", key, new { description = "patched before the rebuild", payload = new { v = 2 } });
        Assert.That(patched.Status, Is.EqualTo(200), patched.Json.ToString());
        var deleted = await api.SendAsync(HttpMethod.Delete, $"/v1/cues/{dropped}", key, null);
        Assert.That(deleted.Status, Is.EqualTo(204), deleted.Json.ToString());
        var fired = await api.PostAsync($"/v1/cues/{kept}/fire", key, new { payload_override = new { manual = true } });
        Assert.That(fired.Status, Is.EqualTo(200), fired.Json.ToString());
        var manual = fired.Json.GetProperty("id").GetString()!;
        await api.PollAsync($"/v1/executions/{manual}", key, j => j.GetProperty("status").GetString() == "success", Patience);
        await api.PollAsync($"/v1/cues/{kept}", key, j => j.GetProperty("run_count").GetInt32() == 1, Patience);

        using var http = new HttpClient { BaseAddress = stack.Api.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var before = await SnapshotAsync(http);
        var executionIds = ExecutionIds(before);
        Assert.That(executionIds, Has.Count.EqualTo(5), before["/v1/executions?limit=100&offset=0"]);
        var cueIds = new[] { kept, dropped }.Concat(delivered.ByKey.Values.Select(e => e.GetProperty("cue_id").GetString()!)).ToArray();
        var dueBefore = await DueIndexAsync(stack.Postgres, cueIds);
        Assert.That(dueBefore, Does.StartWith($"o:{kept}|"), "the kept cue waits in the due index for its next occurrence");
        var deliveriesBefore = ok.Received.Count + failing.Received.Count;

        // Views lost outright come back from the events alone.
        await ExecuteAsync(stack.Postgres, "delete from cue.mt_doc_executionview where id::text = any($1)", executionIds.ToArray());
        await ExecuteAsync(stack.Postgres, "delete from cue.mt_doc_cueview where id::text = any($1)", cueIds);
        Assert.That((await api.GetAsync($"/v1/executions/{manual}", key)).Status, Is.EqualTo(404), "the view was deleted");

        var output = await RebuildAsync(stack.Postgres);
        Assert.That(output, Does.Contain("rebuilt ExecutionView").And.Contain("rebuilt CueView").And.Not.Contain("DueIndex"), output);

        var after = await SnapshotAsync(http);
        Assert.That(after.Keys, Is.EquivalentTo(before.Keys));
        Assert.Multiple(() =>
        {
            foreach (var (path, body) in before)
            {
                Assert.That(after[path], Is.EqualTo(body), path);
            }
        });

        // Nothing was put back in the due index, so nothing is sent again.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var dueAfter = await DueIndexAsync(stack.Postgres, cueIds);
        var executionsAfter = Encoding.UTF8.GetString(await http.GetByteArrayAsync(new Uri("/v1/executions?limit=100&offset=0", UriKind.Relative)));
        Assert.Multiple(() =>
        {
            Assert.That(dueAfter, Is.EqualTo(dueBefore));
            Assert.That(ok.Received.Count + failing.Received.Count, Is.EqualTo(deliveriesBefore), "no webhook was sent again");
            Assert.That(executionsAfter, Is.EqualTo(before["/v1/executions?limit=100&offset=0"]));
        });
    }

    private static async Task ReportAsync(CueApiClient api, string key, string execution, object outcome)
    {
        var reply = await api.PostAsync($"/v1/executions/{execution}/outcome", key, outcome);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
    }

    private static async Task<string> CreateRecurringAsync(CueApiClient api, string key, Uri callback)
    {
        var created = await api.PostAsync("/v1/cues", key, new
        {
            name = "rebuild-" + Guid.NewGuid().ToString("N")[..10],
            schedule = new { type = "recurring", cron = "0 0 1 1 *", timezone = "Europe/Berlin" },
            callback = new { url = callback.ToString() },
            payload = new { v = 1 },
            retry = new { max_attempts = 1 },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        return created.Json.GetProperty("id").GetString()!;
    }

    /// <summary>Every page of the executions and cues lists, each execution and cue, and each execution's attempts, as the raw bytes the API sent.</summary>
    private static async Task<Dictionary<string, string>> SnapshotAsync(HttpClient http)
    {
        var bodies = new Dictionary<string, string>();
        async Task<JsonElement> ReadAsync(string path)
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.That((int)response.StatusCode, Is.EqualTo(200), $"{path}: {Encoding.UTF8.GetString(bytes)}");
            // Compared as text so a failure shows the difference; the text is the bytes, decoded without loss.
            bodies[path] = Encoding.UTF8.GetString(bytes);
            return JsonDocument.Parse(bytes).RootElement.Clone();
        }

        async Task<List<JsonElement>> AllPagesAsync(string list, string property)
        {
            var items = new List<JsonElement>();
            // Two per page, so the paging itself is part of what must come back unchanged.
            for (var offset = 0; ; offset += 2)
            {
                var page = await ReadAsync($"{list}?limit=2&offset={offset}");
                var found = page.GetProperty(property).EnumerateArray().ToList();
                items.AddRange(found);
                if (found.Count < 2)
                {
                    return items;
                }
            }
        }

        var executions = await AllPagesAsync("/v1/executions", "executions");
        await ReadAsync("/v1/executions?limit=100&offset=0");
        foreach (var id in executions.Select(e => e.GetProperty("id").GetString()))
        {
            await ReadAsync($"/v1/executions/{id}");
            await ReadAsync($"/v1/executions/{id}/attempts");
        }

        foreach (var id in (await AllPagesAsync("/v1/cues", "cues")).Select(c => c.GetProperty("id").GetString()))
        {
            await ReadAsync($"/v1/cues/{id}");
        }

        return bodies;
    }

    private static List<string> ExecutionIds(Dictionary<string, string> snapshot) =>
        [.. JsonDocument.Parse(snapshot["/v1/executions?limit=100&offset=0"]).RootElement.GetProperty("executions").EnumerateArray()
            .Select(e => e.GetProperty("id").GetString()!)];

    private static async Task<string> DueIndexAsync(string postgres, string[] cueIds)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select id, kind, due_at, attempt, cue_version, lease_until from cue.due_index where cue_id = any($1) order by id", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = cueIds });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new StringBuilder();
        while (await reader.ReadAsync())
        {
            rows.AppendJoin('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)));
            rows.Append('\n');
        }

        return rows.ToString();
    }

    private static async Task ExecuteAsync(string postgres, string sql, string[] ids)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        Assert.That(await command.ExecuteNonQueryAsync(), Is.GreaterThan(0), sql);
    }

    /// <summary>Runs <c>dotnet Cue.Api.dll projections rebuild</c> against the test database and returns what it printed.</summary>
    private static async Task<string> RebuildAsync(string postgres)
    {
        var dll = Paths.ServiceDll("Cue.Api");
        var info = new ProcessStartInfo("dotnet", [dll, "projections", "rebuild"])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ConnectionStrings__Postgres"] = postgres;
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = Process.Start(info)!;
        Leftovers.Record(process.Id);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.That(process.ExitCode, Is.Zero, output);
        return output;
    }
}
