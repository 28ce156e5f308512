using System.Text;
using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.EndToEnd;

/// <summary>Contract §5.2 fire, §5.3 replay and §6.3 cue states, through the real pipe.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Firing_and_replaying
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private CueStack stack = null!;
    private CueApiClient api = null!;
    private CueApiClient.Account account = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
        account = await api.RegisterAsync("test");
    }

    [OneTimeTearDown]
    public void Dispose() => api.Dispose();

    private async Task<string> CreateAsync(WebhookReceiver receiver, object? schedule = null, object? retry = null, object? onFailure = null)
    {
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "fire-" + Guid.NewGuid().ToString("N")[..10],
            schedule = schedule ?? new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = receiver.Url.ToString() },
            payload = new { keep = "cue", over = "cue" },
            retry = retry ?? new { max_attempts = 1 },
            on_failure = onFailure ?? new { pause = false },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        return created.Json.GetProperty("id").GetString()!;
    }

    private Task<JsonElement> ExecutionAsync(string id, string status) =>
        api.PollAsync($"/v1/executions/{id}", account.ApiKey, j => j.GetProperty("status").GetString() == status, Patience);

    [Test]
    public async Task A_fire_delivers_the_merged_payload_once_and_counts_as_a_run_not_a_scheduled_fire()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var cueId = await CreateAsync(receiver);
        var fired = await api.PostAsync($"/v1/cues/{cueId}/fire", account.ApiKey, new { payload_override = new { over = "fire", added = 1 } });
        Assert.That(fired.Status, Is.EqualTo(200), fired.Json.ToString());
        var id = fired.Json.GetProperty("id").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(fired.Json.GetProperty("execution_id").GetString(), Is.EqualTo(id));
            Assert.That(fired.Json.GetProperty("triggered_by").GetString(), Is.EqualTo("manual_fire"));
            Assert.That(fired.Json.GetProperty("status").GetString(), Is.EqualTo("pending"));
            Assert.That(fired.Json.GetProperty("attempts").GetInt32(), Is.Zero);
            Assert.That(fired.Json.GetProperty("payload").ToString(), Is.EqualTo("""{"added":1,"keep":"cue","over":"fire"}"""));
        });

        var received = await receiver.WaitForAsync(1, Patience);
        Assert.That(received, Has.Count.EqualTo(1), stack.Logs());
        Assert.That(received[0].Header("X-Cue-Execution-Id"), Is.EqualTo(id));
        Assert.That(Encoding.UTF8.GetString(received[0].Body), Does.Contain("\"payload\": {\"added\": 1, \"keep\": \"cue\", \"over\": \"fire\"}"));

        var execution = await ExecutionAsync(id, "success");
        Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("success"), stack.Logs());
        var cue = await api.PollAsync($"/v1/cues/{cueId}", account.ApiKey, j => j.GetProperty("run_count").GetInt32() == 1, Patience);
        Assert.Multiple(() =>
        {
            Assert.That(cue.GetProperty("run_count").GetInt32(), Is.EqualTo(1));
            Assert.That(cue.GetProperty("fired_count").GetInt32(), Is.Zero, "a manual fire is not a scheduled fire");
            Assert.That(cue.GetProperty("last_run").GetString(), Is.EqualTo(execution.GetProperty("delivered_at").GetString()));
            Assert.That(cue.GetProperty("status").GetString(), Is.EqualTo("active"));
            Assert.That(cue.GetProperty("execution_total").GetInt32(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task While_the_receiver_works_the_execution_is_delivering_with_its_attempt_counted()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.AnswerAfter = TimeSpan.FromSeconds(4);
        var soon = Timestamps.TruncateToMilliseconds(DateTimeOffset.UtcNow.AddSeconds(1));
        var cueId = await CreateAsync(receiver, new { type = "once", at = Timestamps.ToWire(soon) });

        Assert.That(await receiver.WaitForAsync(1, Patience), Has.Count.EqualTo(1), stack.Logs());
        var list = await api.PollAsync($"/v1/executions?cue_id={cueId}", account.ApiKey,
            j => j.GetProperty("executions").GetArrayLength() == 1 && j.GetProperty("executions")[0].GetProperty("status").GetString() == "delivering",
            TimeSpan.FromSeconds(3));
        var delivering = list.GetProperty("executions")[0];
        Assert.Multiple(() =>
        {
            Assert.That(delivering.GetProperty("status").GetString(), Is.EqualTo("delivering"), stack.Logs());
            Assert.That(delivering.GetProperty("attempts").GetInt32(), Is.EqualTo(1));
            Assert.That(delivering.GetProperty("started_at").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(delivering.GetProperty("scheduled_for").GetString(), Is.EqualTo(Timestamps.ToWire(soon)));
        });

        var done = await ExecutionAsync(delivering.GetProperty("id").GetString()!, "success");
        Assert.That(done.GetProperty("status").GetString(), Is.EqualTo("success"), stack.Logs());
        Assert.That(done.GetProperty("attempts").GetInt32(), Is.EqualTo(1));
    }

    [Test]
    public async Task An_idempotency_key_returns_the_first_execution_and_creates_nothing()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var cueId = await CreateAsync(receiver);
        var first = await api.PostAsync($"/v1/cues/{cueId}/fire", account.ApiKey, new { idempotency_key = "job-42", payload_override = new { n = 1 }, merge_strategy = "replace" });
        var second = await api.PostAsync($"/v1/cues/{cueId}/fire", account.ApiKey, new { idempotency_key = "job-42" });
        Assert.That(second.Status, Is.EqualTo(200));
        Assert.That(second.Json.GetProperty("id").GetString(), Is.EqualTo(first.Json.GetProperty("id").GetString()));
        Assert.That(first.Json.GetProperty("payload").ToString(), Is.EqualTo("""{"n":1}"""), "replace drops the cue payload");

        await receiver.WaitForAsync(1, Patience);
        await Task.Delay(1000);
        var list = await api.GetAsync($"/v1/executions?cue_id={cueId}", account.ApiKey);
        Assert.That(list.Json.GetProperty("total").GetInt32(), Is.EqualTo(1));
        Assert.That(receiver.Received, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_future_send_at_stays_pending_until_then_and_bad_bodies_are_refused()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var cueId = await CreateAsync(receiver);
        var sendAt = Timestamps.TruncateToMilliseconds(DateTimeOffset.UtcNow.AddSeconds(3));
        var fired = await api.PostAsync($"/v1/cues/{cueId}/fire", account.ApiKey, new { send_at = Timestamps.ToWire(sendAt) });
        Assert.That(fired.Json.GetProperty("scheduled_for").GetString(), Is.EqualTo(Timestamps.ToWire(sendAt)));
        var received = await receiver.WaitForAsync(1, Patience);
        Assert.That(received, Has.Count.EqualTo(1), stack.Logs());
        Assert.That(received[0].ReceivedAt, Is.GreaterThanOrEqualTo(sendAt));

        foreach (var (body, code) in new (object, string)[]
                 {
                     (new { payload_override = "x" }, "validation_error"),
                     (new { merge_strategy = "deep" }, "validation_error"),
                     (new { send_at = "yesterday" }, "validation_error"),
                     (new { surprise = 1 }, "validation_error"),
                 })
        {
            var refused = await api.PostAsync($"/v1/cues/{cueId}/fire", account.ApiKey, body);
            Assert.That(refused.Status, Is.EqualTo(422), JsonSerializer.Serialize(body));
            Assert.That(refused.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo(code));
        }

        Assert.That((await api.PostAsync("/v1/cues/cue_000000000000/fire", account.ApiKey, null)).Status, Is.EqualTo(404));
    }

    [Test]
    public async Task A_replay_is_a_new_execution_with_the_original_payload_and_only_from_a_final_status()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var cueId = await CreateAsync(receiver);
        var fired = await api.PostAsync($"/v1/cues/{cueId}/fire", account.ApiKey, new { payload_override = new { run = 1 } });
        var originalId = fired.Json.GetProperty("id").GetString()!;
        var original = await ExecutionAsync(originalId, "success");

        var pending = await api.PostAsync($"/v1/cues/{cueId}/fire", account.ApiKey, new { send_at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)) });
        var inFlight = await api.PostAsync($"/v1/executions/{pending.Json.GetProperty("id").GetString()}/replay", account.ApiKey, null);
        Assert.That(inFlight.Status, Is.EqualTo(409));
        Assert.That(inFlight.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("execution_in_flight"));

        var replay = await api.PostAsync($"/v1/executions/{originalId}/replay", account.ApiKey, null);
        Assert.That(replay.Status, Is.EqualTo(200), replay.Json.ToString());
        var replayId = replay.Json.GetProperty("id").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(replayId, Is.Not.EqualTo(originalId));
            Assert.That(replay.Json.GetProperty("execution_id").GetString(), Is.EqualTo(replayId));
            Assert.That(replay.Json.GetProperty("triggered_by").GetString(), Is.EqualTo("replay"));
            Assert.That(replay.Json.GetProperty("replayed_from").GetString(), Is.EqualTo(originalId));
            Assert.That(replay.Json.GetProperty("payload").ToString(), Is.EqualTo(original.GetProperty("payload").ToString()));
        });
        Assert.That((await ExecutionAsync(replayId, "success")).GetProperty("status").GetString(), Is.EqualTo("success"), stack.Logs());
        var after = await api.GetAsync($"/v1/executions/{originalId}", account.ApiKey);
        Assert.That(after.Json.GetProperty("updated_at").GetString(), Is.EqualTo(original.GetProperty("updated_at").GetString()), "the original is untouched");

        // Deleting the cue cancels what still waits, and a replay then has no cue to deliver to.
        Assert.That((await api.SendAsync(HttpMethod.Delete, $"/v1/cues/{cueId}", account.ApiKey, null)).Status, Is.EqualTo(204));
        var cancelled = await api.GetAsync($"/v1/executions/{pending.Json.GetProperty("id").GetString()}", account.ApiKey);
        Assert.That(cancelled.Json.GetProperty("status").GetString(), Is.EqualTo("cancelled"));
        var orphan = await api.PostAsync($"/v1/executions/{originalId}/replay", account.ApiKey, null);
        Assert.That(orphan.Status, Is.EqualTo(404));
        Assert.That(orphan.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("cue_not_found"));
        Assert.That((await api.GetAsync($"/v1/executions/{originalId}", account.ApiKey)).Status, Is.EqualTo(200), "executions outlive their cue");
    }

    [Test]
    public async Task A_once_cue_completes_on_success_fails_on_final_failure_and_can_be_re_armed()
    {
        await using var good = await WebhookReceiver.StartAsync();
        await using var bad = await WebhookReceiver.StartAsync(500);
        var soon = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(1));
        var completes = await CreateAsync(good, new { type = "once", at = soon });
        var fails = await CreateAsync(bad, new { type = "once", at = soon });

        var completed = await api.PollAsync($"/v1/cues/{completes}", account.ApiKey, j => j.GetProperty("status").GetString() == "completed", Patience);
        var failed = await api.PollAsync($"/v1/cues/{fails}", account.ApiKey, j => j.GetProperty("status").GetString() == "failed", Patience);
        Assert.Multiple(() =>
        {
            Assert.That(completed.GetProperty("status").GetString(), Is.EqualTo("completed"), stack.Logs());
            Assert.That(completed.GetProperty("next_run").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(completed.GetProperty("fired_count").GetInt32(), Is.EqualTo(1));
            Assert.That(failed.GetProperty("status").GetString(), Is.EqualTo("failed"), stack.Logs());
        });

        var noFuture = await api.SendAsync(HttpMethod.Patch, $"/v1/cues/{fails}", account.ApiKey, new { status = "active" });
        Assert.That(noFuture.Status, Is.EqualTo(400), "a once cue becomes active only with a future at");
        Assert.That(noFuture.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("invalid_schedule"));
        var at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(2));
        var rearmed = await api.SendAsync(HttpMethod.Patch, $"/v1/cues/{fails}", account.ApiKey, new { status = "active", schedule = new { at } });
        Assert.That(rearmed.Status, Is.EqualTo(200), rearmed.Json.ToString());
        Assert.That(rearmed.Json.GetProperty("status").GetString(), Is.EqualTo("active"));
        Assert.That(rearmed.Json.GetProperty("next_run").GetString(), Is.EqualTo(at));
    }

    [Test]
    public async Task A_recurring_cue_with_on_failure_pause_pauses_after_a_final_failure()
    {
        await using var bad = await WebhookReceiver.StartAsync(500);
        var cueId = await CreateAsync(bad, new { type = "recurring", cron = "0 0 1 1 *" }, onFailure: new { pause = true });
        // Bring its next occurrence to now instead of waiting for 1 January.
        await using (var connection = new NpgsqlConnection(stack.Postgres))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("update cue.due_index set due_at = now() + interval '1 second' where cue_id = $1 and kind = 0", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = cueId });
            Assert.That(await command.ExecuteNonQueryAsync(), Is.EqualTo(1));
        }

        var paused = await api.PollAsync($"/v1/cues/{cueId}", account.ApiKey, j => j.GetProperty("status").GetString() == "paused", Patience);
        Assert.That(paused.GetProperty("status").GetString(), Is.EqualTo("paused"), stack.Logs());
        Assert.That(paused.GetProperty("next_run").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }
}
