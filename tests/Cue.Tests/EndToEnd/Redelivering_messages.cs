using Cue.Contracts;
using Cue.Contracts.Messages;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// Invariants 2 and 3 under at-least-once messaging: a redelivered <c>DeliverCue</c> reaches the receiver
/// again with the same execution id, and a duplicate <c>DeliveryAttempted</c> records nothing new.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Redelivering_messages
{
    [Test]
    public async Task Duplicates_collapse_into_one_execution_with_one_record_per_attempt()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        await using var receiver = await WebhookReceiver.StartAsync();
        var bus = await TestBus.StartAsync();
        try
        {
            var account = await api.RegisterAsync("test");
            var at = Timestamps.TruncateToMilliseconds(DateTimeOffset.UtcNow.AddSeconds(2));
            var created = await api.PostAsync("/v1/cues", account.ApiKey, new
            {
                name = "redelivered",
                schedule = new { type = "once", at = Timestamps.ToWire(at) },
                callback = new { url = receiver.Url.ToString() },
            });
            Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
            var cueId = created.Json.GetProperty("id").GetString()!;
            var first = (await receiver.WaitForAsync(1, TimeSpan.FromSeconds(20)))[0];
            var executionId = Guid.Parse(first.Header("X-Cue-Execution-Id"));
            var path = $"/v1/executions/{executionId:D}";
            await api.PollAsync(path, account.ApiKey, j => j.GetProperty("status").GetString() == "success", TimeSpan.FromSeconds(15));

            // The broker hands the same command over again (a lost ack, a crash between send and advance).
            await bus.Publish(new DeliverCue(executionId, cueId, at, 1, TriggerKinds.Scheduled));
            var both = await receiver.WaitForAsync(2, TimeSpan.FromSeconds(20));
            Assert.That(both, Has.Count.EqualTo(2), stack.Logs());
            Assert.That(both[1].Header("X-Cue-Execution-Id"), Is.EqualTo(executionId.ToString("D")), "the receiver's idempotency key is stable");

            // And a duplicate attempt report for the same attempt number.
            var now = DateTimeOffset.UtcNow;
            await bus.Publish(new DeliveryAttempted(executionId, cueId, at, TriggerKinds.Scheduled, 1, now, now, AttemptResults.RetryableFailure,
                500, "HTTP 500", "127.0.0.1", null, now.AddMinutes(1)));

            // Give the API time to consume both duplicates, then check nothing changed.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var executions = await api.GetAsync($"/v1/executions?cue_id={cueId}", account.ApiKey);
            Assert.That(executions.Json.GetProperty("total").GetInt32(), Is.EqualTo(1));
            var execution = executions.Json.GetProperty("executions")[0];
            Assert.Multiple(() =>
            {
                Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("success"));
                Assert.That(execution.GetProperty("attempts").GetInt32(), Is.EqualTo(1));
                Assert.That(execution.GetProperty("http_status").GetInt32(), Is.EqualTo(200));
            });
            var attempts = await api.GetAsync(path + "/attempts", account.ApiKey);
            Assert.That(attempts.Json.GetProperty("attempts").GetArrayLength(), Is.EqualTo(1));

            // No retry was scheduled by the duplicate failure report either.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.That(receiver.Received, Has.Count.EqualTo(2));

            // Another account cannot see the execution at all.
            var other = await api.RegisterAsync("test");
            var foreign = await api.GetAsync(path, other.ApiKey);
            Assert.That(foreign.Status, Is.EqualTo(404));
            Assert.That(foreign.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("execution_not_found"));
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}
