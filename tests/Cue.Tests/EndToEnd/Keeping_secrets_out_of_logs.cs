using Cue.Contracts;
using Cue.Tests.Api;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// No API key, webhook secret, e-mail address, payload, callback header value, URL credential, response
/// body or outcome metadata in any service's log (contract §10): one run that touches all of them, then
/// the three services' logs are read whole and searched.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class Keeping_secrets_out_of_logs
{
    [Test]
    public async Task A_whole_run_leaves_no_secret_or_payload_in_the_logs()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        await using var receiver = await WebhookReceiver.StartAsync();
        var marker = Guid.NewGuid().ToString("N");
        receiver.SuccessBody = $"{{\"success\": true, \"result\": \"response-{marker}\"}}";

        var email = $"leak-{marker}@example.com";
        var registered = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Post, "/v1/auth/register", null,
            $"{{\"email\": \"{email}\", \"mode\": \"test\"}}");
        Assert.That(registered.Status, Is.EqualTo(201), registered.Json.ToString());
        var key = registered.Json.GetProperty("api_key").GetString()!;
        var secret = registered.Json.GetProperty("webhook_secret").GetString()!;

        var created = await api.PostAsync("/v1/cues", key, new
        {
            name = "leak-check",
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(1)) },
            callback = new
            {
                url = receiver.Url + $"?token=url-{marker}",
                headers = new Dictionary<string, string> { ["X-Team-Token"] = $"header-{marker}" },
            },
            payload = new { note = $"payload-{marker}" },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;

        var fired = await api.PostAsync($"/v1/cues/{cueId}/fire", key, new { payload_override = new { extra = $"override-{marker}" } });
        Assert.That(fired.Status, Is.EqualTo(200), fired.Json.ToString());
        var firedId = fired.Json.GetProperty("id").GetString()!;
        Assert.That(await receiver.WaitForAsync(2, TimeSpan.FromSeconds(20)), Has.Count.EqualTo(2), stack.Logs());
        await api.PollAsync($"/v1/executions/{firedId}", key, j => j.GetProperty("status").GetString() == "success", TimeSpan.FromSeconds(15));

        var rotated = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", key, "{}", confirm: true);
        Assert.That(rotated.Status, Is.EqualTo(200), rotated.Json.ToString());
        var newSecret = rotated.Json.GetProperty("webhook_secret").GetString()!;
        var newKey = (await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Post, "/v1/auth/key/regenerate", key, null, confirm: true)).Json.GetProperty("api_key").GetString()!;
        // A refused request with the old key and a bad body: error paths log too.
        await api.PostAsync("/v1/cues", key, new { name = $"payload-{marker}" });
        await api.PostAsync("/v1/cues", newKey, new { name = 1, payload = new { note = $"payload-{marker}" } });

        // Let the last lines reach the files.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var logs = string.Join('\n', new[] { stack.Api, stack.Scheduler, stack.Delivery }.Select(p => ReadShared(p.LogPath)));

        // The logs are this run's: they name the execution that was fired.
        Assert.That(logs, Does.Contain(firedId), "the logs searched are not the ones this run wrote");
        Assert.Multiple(() =>
        {
            foreach (var (what, value) in new[]
                     {
                         ("API key", key), ("new API key", newKey), ("webhook secret", secret), ("new webhook secret", newSecret),
                         ("e-mail", email), ("payload", $"payload-{marker}"), ("payload override", $"override-{marker}"),
                         ("callback header value", $"header-{marker}"), ("URL credential", $"url-{marker}"),
                         ("response body", $"response-{marker}"),
                     })
            {
                Assert.That(logs, Does.Not.Contain(value), $"the {what} appears in a service log");
            }
        });
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
