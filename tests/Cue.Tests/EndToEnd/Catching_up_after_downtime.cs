using System.Text.Json;
using Cue.Contracts;
using Cue.Scheduler.Occurrences;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// Contract §6.4 with a scheduler that was down across several due times. A stopped scheduler leaves a
/// recurring cue's due-index row at the first occurrence it missed; the test puts the rows there (hours in the
/// past) instead of waiting hours, then starts the scheduler and counts what the policy made.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class Catching_up_after_downtime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Test]
    public async Task Each_policy_delivers_and_records_what_the_contract_says()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");

        // Hourly at a minute half an hour away from now, so no regular occurrence falls inside the test.
        var now = DateTimeOffset.UtcNow;
        var minuteOfHour = (now.Minute + 30) % 60;
        var latest = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, minuteOfHour, 0, TimeSpan.Zero);
        latest = latest > now ? latest.AddHours(-1) : latest;
        var cron = $"{minuteOfHour} * * * *";

        await stack.Scheduler.StopAsync();
        string runOnce, skip, replayAll, capped, onceSkipped, onceLate;
        try
        {
            runOnce = await CreateAsync(api, account, receiver, "run_once_if_missed", cron);
            skip = await CreateAsync(api, account, receiver, "skip_missed", cron);
            replayAll = await CreateAsync(api, account, receiver, "replay_all_missed", cron);
            capped = await CreateAsync(api, account, receiver, "skip_missed", cron);
            onceSkipped = await CreateAsync(api, account, receiver, "skip_missed", null);
            onceLate = await CreateAsync(api, account, receiver, "run_once_if_missed", null);

            // Down for four hours and more: five occurrences (T-4h … T) are due and late; 130 for the capped cue.
            var firstMissed = latest.AddHours(-4);
            await MoveRowAsync(stack.Postgres, runOnce, firstMissed);
            await MoveRowAsync(stack.Postgres, skip, firstMissed);
            await MoveRowAsync(stack.Postgres, replayAll, firstMissed);
            await MoveRowAsync(stack.Postgres, capped, latest.AddHours(-129));

            // The once cues are due a second from now; stay down past the missed threshold (8 s in the test stack).
            await Task.Delay(TimeSpan.FromSeconds(11));
            Assert.That(receiver.Received, Is.Empty, "something fired while the scheduler was down");
        }
        finally
        {
            await stack.Scheduler.StartAsync();
        }

        var runOnceList = await SettledAsync(api, account, runOnce, 5);
        var skipList = await SettledAsync(api, account, skip, 5);
        var replayList = await SettledAsync(api, account, replayAll, 5);
        var cappedList = await SettledAsync(api, account, capped, 100);
        var onceSkippedList = await SettledAsync(api, account, onceSkipped, 1);
        var onceLateList = await SettledAsync(api, account, onceLate, 1);

        Assert.Multiple(() =>
        {
            // run_once_if_missed: the most recent delivered with its own scheduled_for, the older four missed.
            Assert.That(Statuses(runOnceList), Is.EqualTo(new[] { "success", "missed", "missed", "missed", "missed" }), stack.Logs());
            Assert.That(ScheduledFors(runOnceList).Distinct().Count(), Is.EqualTo(5));
            // skip_missed: nothing delivered, each occurrence recorded missed.
            Assert.That(Statuses(skipList), Is.All.EqualTo("missed"));
            Assert.That(skipList.All(e => e.GetProperty("attempts").GetInt32() == 0), Is.True);
            // replay_all_missed: every occurrence delivered.
            Assert.That(Statuses(replayList), Is.All.EqualTo("success"));
            // A once cue missed under skip_missed fails; under run_once_if_missed it is delivered late.
            Assert.That(Statuses(onceSkippedList), Is.EqualTo(new[] { "missed" }));
            Assert.That(Statuses(onceLateList), Is.EqualTo(new[] { "success" }));
        });

        // Executions are the occurrences' own deterministic ids, one per scheduled time.
        foreach (var list in new[] { runOnceList, skipList, replayList })
        {
            var cueId = list[0].GetProperty("cue_id").GetString()!;
            Assert.That(list.Select(e => e.GetProperty("id").GetString()),
                Is.EquivalentTo(ScheduledFors(list).Select(at => ExecutionIds.ForScheduled(cueId, at).ToString("D"))));
            Assert.That(list.All(e => e.GetProperty("triggered_by").GetString() == "scheduled"), Is.True);
        }

        // replay_all is published oldest first (FirePlanner's tests); concurrent deliveries may arrive in any
        // order, so the receiver is checked for the five distinct scheduled times only.
        var replayedAtReceiver = receiver.Received.Where(h => h.Header("X-Cue-Cue-Id") == replayAll).Select(h => h.Header("X-Cue-Scheduled-For")).ToList();
        Assert.That(replayedAtReceiver.Distinct().Count(), Is.EqualTo(5));
        Assert.That(receiver.Received.Count(h => h.Header("X-Cue-Cue-Id") == skip), Is.Zero);
        Assert.That(ScheduledFors(runOnceList)[0], Is.EqualTo(latest), "run_once_if_missed delivers the most recent occurrence");

        // The capped catch-up kept the 100 most recent occurrences and says what it dropped.
        var cappedCue = await api.GetAsync($"/v1/cues/{capped}", account.ApiKey);
        Assert.That(cappedCue.Json.GetProperty("warning").GetString(), Does.Contain("dropped"), cappedCue.Json.ToString());
        Assert.That(cappedList, Has.Count.EqualTo(100));

        // Cue states after catch-up (§6.3): the skipped once cue failed, the late one completed, the recurring ones stay active.
        var states = new Dictionary<string, string>();
        foreach (var id in new[] { onceSkipped, onceLate, runOnce })
        {
            var cue = await api.PollAsync($"/v1/cues/{id}", account.ApiKey, j => j.GetProperty("status").GetString() != "active" || id == runOnce, Patience);
            states[id] = cue.GetProperty("status").GetString()!;
        }

        Assert.That(states, Is.EquivalentTo(new Dictionary<string, string> { [onceSkipped] = "failed", [onceLate] = "completed", [runOnce] = "active" }));
    }

    private static string[] Statuses(IEnumerable<JsonElement> executions) =>
        [.. executions.Select(e => e.GetProperty("status").GetString()!)];

    private static DateTimeOffset[] ScheduledFors(IEnumerable<JsonElement> executions) =>
        [.. executions.Select(e => DateTimeOffset.Parse(e.GetProperty("scheduled_for").GetString()!, System.Globalization.CultureInfo.InvariantCulture))];

    private static async Task<string> CreateAsync(CueApiClient api, CueApiClient.Account account, WebhookReceiver receiver, string catchUp, string? cron)
    {
        object schedule = cron is not null
            ? new { type = "recurring", cron }
            : new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(1)) };
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = $"catch-up-{catchUp}-{Guid.NewGuid():N}",
            schedule,
            callback = new { url = receiver.Url.ToString() },
            catch_up = catchUp,
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        return created.Json.GetProperty("id").GetString()!;
    }

    private static async Task MoveRowAsync(string postgres, string cueId, DateTimeOffset dueAt)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("update cue.due_index set due_at = $1, lease_until = null where cue_id = $2 and kind = 0", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = dueAt.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter { Value = cueId });
        Assert.That(await command.ExecuteNonQueryAsync(), Is.EqualTo(1), $"no due-index row for {cueId}");
    }

    /// <summary>The cue's executions, newest scheduled first, once at least <paramref name="count"/> exist and none is in flight.</summary>
    private static async Task<List<JsonElement>> SettledAsync(CueApiClient api, CueApiClient.Account account, string cueId, int count)
    {
        var all = new List<JsonElement>();
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            all.Clear();
            for (var offset = 0; ; offset += 100)
            {
                var page = await api.GetAsync($"/v1/executions?cue_id={cueId}&limit=100&offset={offset}", account.ApiKey);
                all.AddRange(page.Json.GetProperty("executions").EnumerateArray());
                if (!page.Json.GetProperty("has_more").GetBoolean())
                {
                    break;
                }
            }

            var settled = all.Count >= count && all.All(e => e.GetProperty("status").GetString() is "success" or "missed" or "failed");
            if (settled || DateTime.UtcNow > deadline)
            {
                return [.. all.OrderByDescending(e => e.GetProperty("scheduled_for").GetString(), StringComparer.Ordinal)];
            }

            await Task.Delay(250);
        }
    }
}
