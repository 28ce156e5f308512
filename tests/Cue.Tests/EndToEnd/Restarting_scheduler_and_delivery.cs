using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.EndToEnd;

/// <summary>Invariant 1: a cue accepted with 201 fires even when the scheduler and the delivery worker are down at its due time.</summary>
[TestFixture]
[NonParallelizable]
public sealed class Restarting_scheduler_and_delivery
{
    [Test]
    public async Task A_cue_due_while_both_were_down_is_delivered_after_they_return()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        var at = DateTimeOffset.UtcNow.AddSeconds(5);
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "survivor",
            schedule = new { type = "once", at = Timestamps.ToWire(at) },
            callback = new { url = receiver.Url.ToString() },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;

        // A crash, not a clean stop: nothing gets a chance to hand its work back.
        await Task.WhenAll(stack.Scheduler.KillAsync(), stack.Delivery.KillAsync());
        var untilPastDue = at.AddSeconds(3) - DateTimeOffset.UtcNow;
        if (untilPastDue > TimeSpan.Zero)
        {
            await Task.Delay(untilPastDue);
        }

        Assert.That(receiver.Received, Is.Empty, "something delivered while scheduler and delivery were down");

        await Task.WhenAll(stack.Scheduler.StartAsync(), stack.Delivery.StartAsync());
        var received = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        Assert.That(received, Has.Count.EqualTo(1), stack.Logs());
        Assert.That(received[0].Header("X-Cue-Scheduled-For"), Is.EqualTo(Timestamps.ToWire(at)), "the late delivery keeps its own scheduled_for");

        var executions = await api.PollAsync($"/v1/executions?cue_id={cueId}", account.ApiKey,
            j => j.GetProperty("executions").GetArrayLength() == 1 && j.GetProperty("executions")[0].GetProperty("status").GetString() == "success",
            TimeSpan.FromSeconds(15));
        Assert.That(executions.GetProperty("total").GetInt32(), Is.EqualTo(1), stack.Logs());
        Assert.That(executions.GetProperty("executions")[0].GetProperty("status").GetString(), Is.EqualTo("success"));

        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.That(receiver.Received, Has.Count.EqualTo(1), "delivered more than once");
    }
}
