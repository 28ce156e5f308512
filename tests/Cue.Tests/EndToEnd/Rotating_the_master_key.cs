using System.Diagnostics;
using Cue.Contracts;
using Cue.Encryption;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// <c>Cue.Api keys rotate</c>, run as the operator runs it against the test database with the services stopped:
/// every data key is re-wrapped under the new master key, an API started with the new key alone reads what was
/// sealed before, and one started with the old key alone refuses to start. The test rotates back at the end, so
/// the shared stack keeps its key.
/// </summary>
[TestFixture]
// The shared API and delivery are stopped while the keys are re-wrapped: nothing else may run meanwhile.
[NonParallelizable]
public sealed class Rotating_the_master_key
{
    [Test]
    public async Task Rotation_rewraps_every_data_key_and_the_new_key_alone_reads_the_old_data()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        var marker = Guid.NewGuid().ToString("N");
        var account = await api.RegisterAsync();
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "rotation",
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)) },
            callback = new { url = "http://127.0.0.1:9/hook", headers = new Dictionary<string, string> { ["X-Token"] = $"header-{marker}" } },
            payload = new { note = $"payload-{marker}" },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;

        var oldKey = TestKeys.MasterKey;
        var newKey = MasterKey.NewBase64();
        await Task.WhenAll(stack.Api.StopAsync(), stack.Delivery.StopAsync());
        try
        {
            var output = await RotateAsync(stack.Postgres, next: newKey, previous: oldKey);
            Assert.That(output, Does.Contain("re-wrapped").And.Contain(MasterKey.Parse(newKey)!.Id));
            Assert.That(await MasterKeyIdsAsync(stack.Postgres), Is.EqualTo(new[] { MasterKey.Parse(newKey)!.Id }), "a key is still wrapped under another master key");

            // Running it again changes nothing and says so.
            Assert.That(await RotateAsync(stack.Postgres, next: newKey, previous: oldKey), Does.Contain("re-wrapped 0 key(s)"));

            // The new key alone reads what was sealed under the old one.
            await using (var renewed = new CueProcess("Cue.Api", CueStack.FreePort(), With(stack.Environment, newKey)))
            {
                await renewed.StartAsync();
                using var client = new CueApiClient(renewed.BaseAddress);
                var cue = await client.GetAsync($"/v1/cues/{cueId}", account.ApiKey);
                var me = await client.GetAsync("/v1/auth/me", account.ApiKey);
                var secret = await client.GetAsync("/v1/auth/webhook-secret", account.ApiKey);
                Assert.Multiple(() =>
                {
                    Assert.That(cue.Status, Is.EqualTo(200), cue.Json.ToString());
                    Assert.That(cue.Json.GetProperty("payload").GetProperty("note").GetString(), Is.EqualTo($"payload-{marker}"));
                    Assert.That(cue.Json.GetProperty("callback").GetProperty("headers").GetProperty("X-Token").GetString(), Is.EqualTo($"header-{marker}"));
                    Assert.That(me.Json.GetProperty("email").GetString(), Is.EqualTo(account.Email));
                    Assert.That(secret.Json.GetProperty("webhook_secret").GetString(), Is.EqualTo(account.WebhookSecret));
                });
            }

            // The old key alone no longer unwraps anything: the API stops at start-up and says which key it needs.
            await using var stale = new CueProcess("Cue.Api", CueStack.FreePort(), With(stack.Environment, oldKey));
            var refused = (await Assert.ThrowsAsync<InvalidOperationException>(stale.StartAsync))!;
            Assert.That(refused.Message, Does.Contain("Encryption:MasterKey").And.Contain(MasterKey.Parse(newKey)!.Id));
        }
        finally
        {
            // Back to the run's key, so the shared stack (restarted by the next SharedAsync) reads everything again.
            await RotateAsync(stack.Postgres, next: oldKey, previous: newKey);
            await CueStack.SharedAsync();
        }
    }

    [TestCase("")]
    [TestCase("c2hvcnQ=")]
    public async Task A_service_without_a_valid_master_key_refuses_to_start_and_names_the_setting(string key)
    {
        var stack = await CueStack.SharedAsync();
        foreach (var project in new[] { "Cue.Api", "Cue.Delivery" })
        {
            await using var service = new CueProcess(project, CueStack.FreePort(), With(stack.Environment, key));
            var refused = (await Assert.ThrowsAsync<InvalidOperationException>(service.StartAsync))!;
            Assert.That(refused.Message, Does.Contain("Encryption:MasterKey").And.Contain("Encryption__MasterKey"), project);
        }
    }

    private static Dictionary<string, string> With(IReadOnlyDictionary<string, string> environment, string masterKey) =>
        new(environment) { [TestKeys.MasterKeyVariable] = masterKey };

    private static async Task<string[]> MasterKeyIdsAsync(string postgres)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select master_key_id from {KeyTables.AccountKeys} union select master_key_id from {KeyTables.LookupKeys}", connection);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return [.. ids];
    }

    /// <summary>Runs <c>dotnet Cue.Api.dll keys rotate</c> against the test database and returns what it printed.</summary>
    private static async Task<string> RotateAsync(string postgres, string next, string previous)
    {
        var dll = Paths.ServiceDll("Cue.Api");
        var info = new ProcessStartInfo("dotnet", [dll, "keys", "rotate"])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ConnectionStrings__Postgres"] = postgres;
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Encryption__MasterKey"] = next;
        info.Environment["Encryption__PreviousMasterKey"] = previous;
        using var process = Process.Start(info)!;
        Leftovers.Record(process.Id);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.That(process.ExitCode, Is.Zero, output);
        Assert.That(output, Does.Not.Contain(next).And.Not.Contain(previous), "the command printed a key");
        return output;
    }
}
