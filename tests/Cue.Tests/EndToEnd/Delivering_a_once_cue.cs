using System.Globalization;
using System.Text;
using System.Text.Json;
using Cue.Contracts;
using Cue.Delivery.Signing;
using Cue.Scheduler.Occurrences;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.EndToEnd;

/// <summary>The whole pipe on real PostgreSQL and RabbitMQ, with the three services as processes.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Delivering_a_once_cue
{
    private CueStack stack = null!;
    private CueApiClient api = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
    }

    [OneTimeTearDown]
    public void Dispose() => api.Dispose();

    [Test]
    public async Task Arrives_once_signed_and_is_recorded_as_a_success()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        var at = Timestamps.TruncateToMilliseconds(DateTimeOffset.UtcNow.AddSeconds(2));
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "once-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "once", at = Timestamps.ToWire(at) },
            callback = new { url = receiver.Url.ToString() },
            payload = new { task = "report", note = "café" },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;

        var received = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(20));
        Assert.That(received, Has.Count.EqualTo(1), stack.Logs());
        var hook = received[0];

        // Not before its time, and close to it (the precise figures are ./cue bench's business).
        Assert.That(hook.ReceivedAt, Is.GreaterThanOrEqualTo(at), "delivered before scheduled_for");
        TestContext.Out.WriteLine($"fire-to-receipt delay: {(hook.ReceivedAt - at).TotalMilliseconds:F0} ms");

        var expectedExecution = ExecutionIds.ForScheduled(cueId, at);
        var timestamp = long.Parse(hook.Header("X-Cue-Timestamp"), CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            Assert.That(hook.Method, Is.EqualTo("POST"));
            Assert.That(hook.Header("X-Cue-Execution-Id"), Is.EqualTo(expectedExecution.ToString("D")));
            Assert.That(hook.Header("X-Cue-Cue-Id"), Is.EqualTo(cueId));
            Assert.That(hook.Header("X-Cue-Attempt"), Is.EqualTo("1"));
            Assert.That(hook.Header("X-Cue-Scheduled-For"), Is.EqualTo(Timestamps.ToWire(at)));
            Assert.That(hook.Header("Content-Type"), Is.EqualTo("application/json"));
            Assert.That(WebhookSigner.Verify(hook.Header("X-Cue-Signature"), [account.WebhookSecret], timestamp, hook.Body), Is.True,
                "the signature does not verify with the account's webhook secret");
            Assert.That(WebhookSigner.Verify(hook.Header("X-Cue-Signature"), ["whsec_" + new string('0', 64)], timestamp, hook.Body), Is.False);
        });

        var expectedBody = $"{{\"attempt\": 1, \"cue_id\": \"{cueId}\", \"execution_id\": \"{expectedExecution:D}\", \"name\": \"{created.Json.GetProperty("name").GetString()}\", " +
                           $"\"payload\": {{\"note\": \"caf\\u00e9\", \"task\": \"report\"}}, \"scheduled_for\": \"{Timestamps.ToWire(at)}\"}}";
        Assert.That(Encoding.UTF8.GetString(hook.Body), Is.EqualTo(expectedBody));

        var executions = await api.PollAsync($"/v1/executions?cue_id={cueId}", account.ApiKey,
            j => j.GetProperty("executions").GetArrayLength() == 1 && j.GetProperty("executions")[0].GetProperty("status").GetString() == "success",
            TimeSpan.FromSeconds(15));
        Assert.That(executions.GetProperty("total").GetInt32(), Is.EqualTo(1), stack.Logs());
        var execution = executions.GetProperty("executions")[0];
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("id").GetString(), Is.EqualTo(expectedExecution.ToString("D")));
            Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("success"));
            Assert.That(execution.GetProperty("http_status").GetInt32(), Is.EqualTo(200));
            Assert.That(execution.GetProperty("attempts").GetInt32(), Is.EqualTo(1));
            Assert.That(execution.GetProperty("triggered_by").GetString(), Is.EqualTo("scheduled"));
            Assert.That(execution.GetProperty("scheduled_for").GetString(), Is.EqualTo(Timestamps.ToWire(at)));
            Assert.That(execution.GetProperty("delivered_at").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(execution.GetProperty("payload").GetProperty("note").GetString(), Is.EqualTo("café"));
        });

        var single = await api.GetAsync($"/v1/executions/{expectedExecution:D}", account.ApiKey);
        Assert.That(single.Status, Is.EqualTo(200));
        Assert.That(single.Json.GetProperty("status").GetString(), Is.EqualTo("success"));

        // Still exactly one delivery a while later: nothing fires the same occurrence twice.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.That(receiver.Received, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_receiver_failing_once_gives_one_execution_with_two_attempts()
    {
        await using var receiver = await WebhookReceiver.StartAsync(500, 200);
        var account = await api.RegisterAsync("test");
        var at = DateTimeOffset.UtcNow.AddSeconds(2);
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "flaky-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "once", at = Timestamps.ToWire(at) },
            callback = new { url = receiver.Url.ToString() },
            // One backoff "minute" is one second in the test stack (Delivery:BackoffUnit).
            retry = new { max_attempts = 3, backoff_minutes = new[] { 1 } },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;

        var received = await receiver.WaitForAsync(2, TimeSpan.FromSeconds(30));
        Assert.That(received, Has.Count.EqualTo(2), stack.Logs());
        Assert.Multiple(() =>
        {
            Assert.That(received[1].Header("X-Cue-Execution-Id"), Is.EqualTo(received[0].Header("X-Cue-Execution-Id")));
            Assert.That(received.Select(r => r.Header("X-Cue-Attempt")), Is.EqualTo(new[] { "1", "2" }));
            Assert.That(received[1].ReceivedAt - received[0].ReceivedAt, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)),
                "the retry came before its backoff");
        });

        var executions = await api.PollAsync($"/v1/executions?cue_id={cueId}", account.ApiKey,
            j => j.GetProperty("executions").GetArrayLength() == 1 && j.GetProperty("executions")[0].GetProperty("status").GetString() == "success",
            TimeSpan.FromSeconds(15));
        Assert.That(executions.GetProperty("total").GetInt32(), Is.EqualTo(1), stack.Logs());
        var execution = executions.GetProperty("executions")[0];
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("success"));
            Assert.That(execution.GetProperty("attempts").GetInt32(), Is.EqualTo(2));
            Assert.That(execution.GetProperty("http_status").GetInt32(), Is.EqualTo(200));
        });

        var attempts = await api.GetAsync($"/v1/executions/{execution.GetProperty("id").GetString()}/attempts", account.ApiKey);
        var list = attempts.Json.GetProperty("attempts");
        Assert.That(list.GetArrayLength(), Is.EqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(list[0].GetProperty("attempt").GetInt32(), Is.EqualTo(1));
            Assert.That(list[0].GetProperty("result").GetString(), Is.EqualTo("retryable_failure"));
            Assert.That(list[0].GetProperty("http_status").GetInt32(), Is.EqualTo(500));
            Assert.That(list[0].GetProperty("remote_address").GetString(), Is.EqualTo("127.0.0.1"));
            Assert.That(list[1].GetProperty("attempt").GetInt32(), Is.EqualTo(2));
            Assert.That(list[1].GetProperty("result").GetString(), Is.EqualTo("success"));
            Assert.That(list[1].GetProperty("http_status").GetInt32(), Is.EqualTo(200));
            Assert.That(list[0].GetProperty("response_body").GetString(), Is.EqualTo("{\"error\": \"scripted failure\"}"));
            Assert.That(list[1].GetProperty("response_body").GetString(), Is.EqualTo("{\"ok\": true}"));
        });

        // The response snippets reached the audit log without crossing the bus; their hand-over rows are gone.
        await using var connection = new NpgsqlConnection(stack.Postgres);
        await connection.OpenAsync();
        await using var leftover = new NpgsqlCommand("select count(*) from cue.attempt_responses where execution_id = $1", connection);
        leftover.Parameters.Add(new NpgsqlParameter { Value = Guid.Parse(execution.GetProperty("id").GetString()!) });
        Assert.That((long)(await leftover.ExecuteScalarAsync())!, Is.Zero);
    }

    [Test]
    public async Task A_receiver_that_always_fails_ends_failed_after_max_attempts()
    {
        await using var receiver = await WebhookReceiver.StartAsync(503);
        var account = await api.RegisterAsync("test");
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "down-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(2)) },
            callback = new { url = receiver.Url.ToString() },
            retry = new { max_attempts = 2, backoff_minutes = new[] { 1 } },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;

        var executions = await api.PollAsync($"/v1/executions?cue_id={cueId}", account.ApiKey,
            j => j.GetProperty("executions").GetArrayLength() == 1 && j.GetProperty("executions")[0].GetProperty("status").GetString() == "failed",
            TimeSpan.FromSeconds(30));
        var execution = executions.GetProperty("executions")[0];
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("failed"), stack.Logs());
            Assert.That(execution.GetProperty("attempts").GetInt32(), Is.EqualTo(2));
            Assert.That(execution.GetProperty("http_status").GetInt32(), Is.EqualTo(503));
            Assert.That(execution.GetProperty("next_retry").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });

        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.That(receiver.Received, Has.Count.EqualTo(2), "no attempt beyond max_attempts");
    }
}
