using System.Diagnostics;
using System.Text;
using Cue.Contracts;
using Cue.Contracts.Webhooks;
using Cue.Tests.Api;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// Encryption at rest (issue 4 item 6, design invariant 4): one run touches every sensitive value Cue stores,
/// then the whole test database is dumped as a backup would be (<c>pg_dump</c>: events, documents, the attempt
/// response hand-over table, the key tables, Quartz's tables) and none of them appears, in text or as bytea
/// hex. The API still answers every one in clear and the receiver got them, so the test cannot pass by losing data.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Encrypting_data_at_rest
{
    [Test]
    public async Task A_database_dump_holds_no_payload_header_url_e_mail_secret_snippet_or_outcome_text_in_clear()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        await using var receiver = await WebhookReceiver.StartAsync();
        // Every sensitive value carries the marker; names and ids do not, so any occurrence in the dump is a leak.
        var marker = Guid.NewGuid().ToString("N");
        receiver.SuccessBody = $"{{\"echo\": \"response-{marker}\"}}";

        var email = $"at-rest-{marker}@example.com";
        var registered = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Post, "/v1/auth/register", null,
            $"{{\"email\": \"{email}\", \"mode\": \"test\"}}");
        Assert.That(registered.Status, Is.EqualTo(201), registered.Json.ToString());
        var key = registered.Json.GetProperty("api_key").GetString()!;
        var firstSecret = registered.Json.GetProperty("webhook_secret").GetString()!;

        var hookPath = $"/hook-{marker}";
        var created = await api.PostAsync("/v1/cues", key, new
        {
            name = "at-rest",
            description = $"description-{marker}",
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(1)) },
            callback = new
            {
                url = new Uri(receiver.Url, $"{hookPath}?q=query-{marker}").ToString(),
                headers = new Dictionary<string, string> { ["X-Team-Token"] = $"header-{marker}" },
            },
            payload = new { note = $"payload-{marker}" },
            on_failure = new { webhook = new Uri(receiver.Url, $"/failed-{marker}").ToString() },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;

        var hooks = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        Assert.That(hooks, Has.Count.EqualTo(1), stack.Logs());
        var list = await api.PollAsync($"/v1/executions?cue_id={cueId}", key,
            j => j.GetProperty("executions").EnumerateArray().Any(e => e.GetProperty("status").GetString() == "success"), TimeSpan.FromSeconds(20));
        var executionId = list.GetProperty("executions")[0].GetProperty("id").GetString()!;

        var reported = await api.PostAsync($"/v1/executions/{executionId}/outcome", key, new
        {
            success = true,
            result = $"result-{marker}",
            metadata = new { m = $"metadata-{marker}" },
            external_id = $"external-{marker}",
            summary = $"summary-{marker}",
        });
        Assert.That(reported.Status, Is.EqualTo(200), reported.Json.ToString());
        var rotated = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", key, "{}", confirm: true);
        Assert.That(rotated.Status, Is.EqualTo(200), rotated.Json.ToString());
        var secondSecret = rotated.Json.GetProperty("webhook_secret").GetString()!;

        // The receiver got the payload and the header, signed with the account's secret.
        var hook = hooks[0];
        Assert.Multiple(() =>
        {
            Assert.That(hook.Path, Is.EqualTo(hookPath));
            Assert.That(Encoding.UTF8.GetString(hook.Body), Does.Contain($"payload-{marker}"));
            Assert.That(hook.Header("X-Team-Token"), Is.EqualTo($"header-{marker}"));
            Assert.That(WebhookVerifier.Verify(hook.Header("X-Cue-Signature"), hook.Header("X-Cue-Timestamp"), hook.Body, [firstSecret], DateTimeOffset.UtcNow),
                Is.EqualTo(WebhookVerdict.Valid));
        });

        // The API answers every value in clear.
        var me = await api.GetAsync("/v1/auth/me", key);
        var cue = await api.GetAsync($"/v1/cues/{cueId}", key);
        var execution = await api.GetAsync($"/v1/executions/{executionId}", key);
        var attempts = await api.GetAsync($"/v1/executions/{executionId}/attempts", key);
        var secret = await api.GetAsync("/v1/auth/webhook-secret", key);
        Assert.Multiple(() =>
        {
            Assert.That(me.Json.GetProperty("email").GetString(), Is.EqualTo(email));
            Assert.That(cue.Json.GetProperty("description").GetString(), Is.EqualTo($"description-{marker}"));
            Assert.That(cue.Json.GetProperty("callback").GetProperty("url").GetString(), Does.EndWith($"{hookPath}?q=query-{marker}"));
            Assert.That(cue.Json.GetProperty("callback").GetProperty("headers").GetProperty("X-Team-Token").GetString(), Is.EqualTo($"header-{marker}"));
            Assert.That(cue.Json.GetProperty("payload").GetProperty("note").GetString(), Is.EqualTo($"payload-{marker}"));
            Assert.That(cue.Json.GetProperty("on_failure").GetProperty("webhook").GetString(), Does.EndWith($"/failed-{marker}"));
            var e = execution.Json;
            Assert.That(e.GetProperty("payload").GetProperty("note").GetString(), Is.EqualTo($"payload-{marker}"));
            Assert.That(e.GetProperty("response_body").GetString(), Does.Contain($"response-{marker}"));
            Assert.That(e.GetProperty("outcome").GetProperty("result").GetString(), Is.EqualTo($"result-{marker}"));
            Assert.That(e.GetProperty("outcome").GetProperty("metadata").GetProperty("m").GetString(), Is.EqualTo($"metadata-{marker}"));
            Assert.That(e.GetProperty("outcome").GetProperty("external_id").GetString(), Is.EqualTo($"external-{marker}"));
            Assert.That(e.GetProperty("outcome").GetProperty("summary").GetString(), Is.EqualTo($"summary-{marker}"));
            Assert.That(attempts.Json.GetProperty("attempts")[0].GetProperty("response_body").GetString(), Does.Contain($"response-{marker}"));
            Assert.That(secret.Json.GetProperty("webhook_secret").GetString(), Is.EqualTo(secondSecret));
        });

        var dump = await DumpAsync(stack.Postgres);
        // The dump is this run's database: it holds the cue and the execution by id (ids stay clear).
        Assert.That(dump, Does.Contain(cueId).And.Contain(executionId), "the dump read is not the test database");
        Assert.Multiple(() =>
        {
            foreach (var (what, value) in new[] { ("marker (in the e-mail, url, headers, payload, description, snippet and outcome)", marker), ("first webhook secret", firstSecret), ("second webhook secret", secondSecret) })
            {
                Assert.That(dump, Does.Not.Contain(value), $"the {what} is stored in clear");
                Assert.That(dump, Does.Not.Contain(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(value))), $"the {what} is stored in clear as bytea");
            }
        });
    }

    /// <summary>The whole test database as <c>pg_dump</c> writes it in plain SQL (schema and data of every schema).</summary>
    internal static async Task<string> DumpAsync(string postgres)
    {
        var connection = new NpgsqlConnectionStringBuilder(postgres);
        var info = new ProcessStartInfo(PgDump(), ["--no-owner", "--no-privileges", "--format=plain"])
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
        using var process = Process.Start(info)!;
        Leftovers.Record(process.Id);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.That(process.ExitCode, Is.Zero, await stderr);
        return await stdout;
    }

    private static string PgDump()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/lib/postgresql/15/bin"))
        {
            var candidate = Path.Combine(dir, "pg_dump");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("pg_dump is not on PATH nor in /usr/lib/postgresql/15/bin (./cue up installs it).");
    }
}
