using System.Globalization;
using System.Text.Json;
using Cue.Delivery.Signing;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.EndToEnd;

/// <summary>Contract §9.5 <c>on_failure.webhook</c>: a final failure posts a signed <c>cue.failed</c> notice, retried.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Notifying_a_failure
{
    [Test]
    public async Task A_final_failure_posts_a_signed_cue_failed_notice_and_retries_it()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        await using var callback = await WebhookReceiver.StartAsync(503);
        // The notice's first attempt fails; the second (one backoff unit later) succeeds.
        await using var watcher = await WebhookReceiver.StartAsync(500, 200);
        var account = await api.RegisterAsync("test");
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "doomed-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = callback.Url.ToString() },
            retry = new { max_attempts = 1 },
            on_failure = new { webhook = watcher.Url.ToString() },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;
        var fired = await api.PostAsync($"/v1/cues/{cueId}/fire", account.ApiKey, null);
        var executionId = fired.Json.GetProperty("id").GetString()!;

        var notices = await watcher.WaitForAsync(2, TimeSpan.FromSeconds(30));
        Assert.That(notices, Has.Count.EqualTo(2), stack.Logs());
        foreach (var notice in notices)
        {
            var timestamp = long.Parse(notice.Header("X-Cue-Timestamp"), CultureInfo.InvariantCulture);
            Assert.Multiple(() =>
            {
                Assert.That(notice.Header("X-Cue-Event"), Is.EqualTo("cue.failed"));
                Assert.That(notice.Header("X-Cue-Execution-Id"), Is.EqualTo(executionId));
                Assert.That(WebhookSigner.Verify(notice.Header("X-Cue-Signature"), [account.WebhookSecret], timestamp, notice.Body), Is.True);
                Assert.That(CanonicalJson.TryCanonicalize(notice.Body, out var canonical, out _), Is.True);
                Assert.That(canonical, Is.EqualTo(System.Text.Encoding.ASCII.GetString(notice.Body)), "the notice is sent in canonical form");
            });
        }

        var body = JsonDocument.Parse(notices[1].Body).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(body.EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[]
                { "event", "cue_id", "cue_name", "execution_id", "scheduled_for", "attempts", "last_http_status", "last_error", "failed_at" }));
            Assert.That(body.GetProperty("event").GetString(), Is.EqualTo("cue.failed"));
            Assert.That(body.GetProperty("cue_id").GetString(), Is.EqualTo(cueId));
            Assert.That(body.GetProperty("cue_name").GetString(), Is.EqualTo(created.Json.GetProperty("name").GetString()));
            Assert.That(body.GetProperty("attempts").GetInt32(), Is.EqualTo(1));
            Assert.That(body.GetProperty("last_http_status").GetInt32(), Is.EqualTo(503));
        });

        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.That(watcher.Received, Has.Count.EqualTo(2), "a delivered notice is not sent again");
        var execution = await api.GetAsync($"/v1/executions/{executionId}", account.ApiKey);
        Assert.That(execution.Json.GetProperty("status").GetString(), Is.EqualTo("failed"));
    }
}
