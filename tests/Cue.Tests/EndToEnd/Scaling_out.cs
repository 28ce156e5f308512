using System.Text.RegularExpressions;
using Cue.Contracts;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// Two clustered schedulers and two competing delivery consumers on one machine, as
/// <c>./cue up --schedulers 2 --deliveries 2</c> runs them: one scheduler is killed mid-run, and the
/// counts prove nothing was lost, nothing fired twice, and both consumers did part of the work.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class Scaling_out
{
    private const int Cues = 300;
    private static readonly TimeSpan Spread = TimeSpan.FromSeconds(15);

    [Test]
    public async Task Killing_one_of_two_schedulers_mid_run_loses_and_duplicates_nothing_and_both_consumers_work()
    {
        var stack = await CueStack.SharedAsync();
        await using var scheduler2 = new CueProcess("Cue.Scheduler", CueStack.FreePort(), stack.Environment);
        await using var delivery2 = new CueProcess("Cue.Delivery", CueStack.FreePort(), stack.Environment);
        try
        {
            var before = await LiveSchedulerInstancesAsync(stack.Postgres, atLeast: 1);
            await Task.WhenAll(scheduler2.StartAsync(), delivery2.StartAsync());
            var after = await LiveSchedulerInstancesAsync(stack.Postgres, atLeast: 2);
            Assert.That(after, Has.Count.GreaterThanOrEqualTo(2), "two Quartz instances, each with its own id, checked in to one cluster");
            // Which instance id is whose: the one that appeared with the second process is its own.
            var secondInstance = after.Except(before).SingleOrDefault();

            using var api = new CueApiClient(stack.Api.BaseAddress);
            await using var receiver = await WebhookReceiver.StartAsync();
            var account = await api.RegisterAsync("test");

            // A few hundred once cues, due one after another over the spread, starting once all exist.
            var firstDue = DateTimeOffset.UtcNow.AddSeconds(8);
            var dueAt = Enumerable.Range(0, Cues).Select(i => Timestamps.TruncateToMilliseconds(firstDue + Spread * i / Cues)).ToArray();
            var cues = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(); // cue id → scheduled_for on the wire
            var refused = new System.Collections.Concurrent.ConcurrentBag<string>();
            await Parallel.ForEachAsync(Enumerable.Range(0, Cues), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                var created = await api.PostAsync("/v1/cues", account.ApiKey, new
                {
                    name = $"scale-{i}",
                    schedule = new { type = "once", at = Timestamps.ToWire(dueAt[i]) },
                    callback = new { url = receiver.Url.ToString() },
                });
                if (created.Status != 201)
                {
                    refused.Add($"{created.Status} {created.Json}");
                    return;
                }

                cues[created.Json.GetProperty("id").GetString()!] = Timestamps.ToWire(dueAt[i]);
            });
            Assert.That(refused, Is.Empty, "creates that did not answer 201");
            Assert.That(DateTimeOffset.UtcNow, Is.LessThan(firstDue), "creating the cues took longer than the head start they had");

            // A crash mid-run of the scheduler that has the dispatch job's next fire (Quartz acquires a
            // trigger ahead of its fire time, so one of them nearly always holds it): it also holds the
            // claims of its last tick. If that cannot be told, the first scheduler goes.
            await DelayUntil(firstDue + Spread * 0.4);
            Assert.That(receiver.Received, Is.Not.Empty, "nothing was delivered before the kill");
            var dispatching = await DispatchingInstanceAsync(stack.Postgres);
            var (victim, survivor) = dispatching is not null && dispatching == secondInstance ? (scheduler2, stack.Scheduler) : (stack.Scheduler, scheduler2);
            await victim.KillAsync();
            TestContext.Out.WriteLine($"killed the {(victim == scheduler2 ? "second" : "first")} scheduler; " +
                $"it {(dispatching is null ? "may or may not have held" : "held")} the dispatch job's next fire " +
                $"(instances {string.Join(", ", after)}; the second's: {secondInstance ?? "unknown"}; dispatching: {dispatching ?? "unseen"})");

            // The survivor takes over the dispatch job (Quartz recovers the dead node's trigger) and the
            // expired claims of the dead node; every cue is delivered.
            var deadline = firstDue + Spread + TimeSpan.FromSeconds(40);
            while (ExecutionIds(receiver).Count < Cues && DateTimeOffset.UtcNow < deadline)
            {
                await receiver.WaitForAsync(receiver.Received.Count + 1, TimeSpan.FromSeconds(1));
            }

            Assert.That(survivor.IsRunning, Is.True, "the surviving scheduler died:\n" + survivor.LogTail());
            var receipts = receiver.Received.Where(r => cues.ContainsKey(r.Header("X-Cue-Cue-Id"))).ToList();
            var delivered = receipts.Select(r => r.Header("X-Cue-Cue-Id")).Distinct().Count();
            Assert.That(Cues - delivered, Is.Zero, $"cues never delivered (of {Cues})\n{survivor.LogTail(30)}\n{stack.Logs()}");

            // The audit: exactly one execution per (cue, scheduled_for), all succeeded.
            var executions = await AllExecutionsOnceFinalAsync(api, account.ApiKey, Cues, TimeSpan.FromSeconds(20));
            Assert.That(executions.Select(e => e.Status).Distinct(), Is.EqualTo(new[] { "success" }), "final statuses in the audit");
            Assert.That(executions, Has.Count.EqualTo(Cues), "executions in the audit");
            Assert.That(executions.GroupBy(e => (e.CueId, e.ScheduledFor)).Where(g => g.Count() > 1).Select(g => g.Key), Is.Empty,
                "(cue, scheduled_for) pairs with more than one execution");
            Assert.That(executions.GroupBy(e => e.CueId).Where(g => g.Count() > 1).Select(g => g.Key), Is.Empty, "once cues with more than one execution");
            Assert.That(executions.ToDictionary(e => e.CueId, e => e.ScheduledFor), Is.EquivalentTo(cues), "one execution per cue, at its own time");

            // The receiver, read again now that the audit is final (a re-sent message may have come late):
            // each cue came with one execution id only (a duplicate receipt is at-least-once
            // delivery and must repeat the same id), and that id is the audit's execution.
            receipts = [.. receiver.Received.Where(r => cues.ContainsKey(r.Header("X-Cue-Cue-Id")))];
            var idsPerCue = receipts.GroupBy(r => r.Header("X-Cue-Cue-Id")).ToDictionary(g => g.Key, g => g.Select(r => r.Header("X-Cue-Execution-Id")).Distinct().ToList());
            Assert.That(idsPerCue.Where(c => c.Value.Count != 1).Select(c => $"{c.Key}: {string.Join(", ", c.Value)}"), Is.Empty,
                "cues delivered under more than one execution id");
            Assert.That(idsPerCue.ToDictionary(c => c.Key, c => c.Value[0]), Is.EquivalentTo(executions.ToDictionary(e => e.CueId, e => e.Id)),
                "the execution id each cue was delivered with is its execution in the audit");
            TestContext.Out.WriteLine($"{receipts.Count} receipts for {Cues} executions ({receipts.Count - Cues} duplicate deliveries)");

            // Both consumers did part of the work: each logs every attempt it makes.
            var perConsumer = await AttemptsLoggedAsync([stack.Delivery, delivery2], cues.Keys.ToHashSet(), receipts.Count);
            TestContext.Out.WriteLine($"attempts logged: first delivery {perConsumer[0]}, second delivery {perConsumer[1]}");
            Assert.That(perConsumer, Has.All.GreaterThan(0), "a delivery consumer that took no message is not competing");
            Assert.That(perConsumer.Sum(), Is.GreaterThanOrEqualTo(Cues), "attempts logged by the two consumers together");
        }
        finally
        {
            // The shared stack gets its scheduler back (if it was the one killed) before the extra instances stop.
            await stack.Scheduler.StartAsync();
        }
    }

    private sealed record Execution(string Id, string CueId, string ScheduledFor, string Status);

    private static HashSet<string> ExecutionIds(WebhookReceiver receiver) =>
        receiver.Received.Select(r => r.Header("X-Cue-Execution-Id")).ToHashSet();

    private static async Task DelayUntil(DateTimeOffset instant)
    {
        var wait = instant - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    /// <summary>Quartz instances of the cue-scheduler cluster that checked in within the last two check-in intervals.</summary>
    private static async Task<HashSet<string>> LiveSchedulerInstancesAsync(string postgres, int atLeast)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var live = new HashSet<string>();
        do
        {
            await using var command = new NpgsqlCommand(
                "SELECT DISTINCT instance_name FROM qrtz_scheduler_state WHERE sched_name = 'cue-scheduler' AND last_checkin_time > $1", connection);
            // Quartz.NET stores check-ins as UTC ticks.
            command.Parameters.AddWithValue(DateTimeOffset.UtcNow.AddSeconds(-10).UtcTicks);
            live.Clear();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    live.Add(reader.GetString(0));
                }
            }

            if (live.Count >= atLeast)
            {
                break;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);

        return live;
    }

    /// <summary>The instance that has acquired (or is firing) the dispatch trigger, seen within a second, else null.</summary>
    private static async Task<string?> DispatchingInstanceAsync(string postgres)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(1);
        do
        {
            await using var command = new NpgsqlCommand(
                "SELECT instance_name FROM qrtz_fired_triggers WHERE sched_name = 'cue-scheduler' AND trigger_name = 'dispatch-tick' LIMIT 1", connection);
            if (await command.ExecuteScalarAsync() is string instance)
            {
                return instance;
            }

            await Task.Delay(10);
        }
        while (DateTime.UtcNow < deadline);

        return null;
    }

    /// <summary>
    /// Every execution of the account, paged through once all <paramref name="expected"/> exist and none is
    /// in flight. The audit is projected from the consumers' reports, so it may still be filling in when the
    /// receiver has everything; a round counts only when no page saw the list change under it.
    /// </summary>
    private static async Task<List<Execution>> AllExecutionsOnceFinalAsync(CueApiClient api, string apiKey, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        List<Execution> all;
        do
        {
            all = [];
            var totals = new HashSet<int>();
            for (var offset = 0; ; offset += 100)
            {
                var page = await api.GetAsync($"/v1/executions?limit=100&offset={offset}", apiKey);
                Assert.That(page.Status, Is.EqualTo(200), page.Json.ToString());
                totals.Add(page.Json.GetProperty("total").GetInt32());
                all.AddRange(page.Json.GetProperty("executions").EnumerateArray().Select(e => new Execution(
                    e.GetProperty("id").GetString()!, e.GetProperty("cue_id").GetString()!, e.GetProperty("scheduled_for").GetString()!, e.GetProperty("status").GetString()!)));
                if (!page.Json.GetProperty("has_more").GetBoolean())
                {
                    break;
                }
            }

            var consistent = totals.Count == 1 && totals.Single() == all.Count && all.Select(e => e.Id).Distinct().Count() == all.Count;
            if (consistent && all.Count >= expected && all.All(e => ExecutionFinal(e.Status)))
            {
                break;
            }

            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);

        return all;
    }

    private static bool ExecutionFinal(string status) => status is "success" or "failed" or "missed" or "cancelled";

    /// <summary>Per process, the delivery attempts of these cues it logged; waits briefly for the logs to catch up.</summary>
    private static async Task<int[]> AttemptsLoggedAsync(CueProcess[] consumers, HashSet<string> cueIds, int expectedTotal)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        int[] counts;
        do
        {
            counts = consumers.Select(c => ReadLog(c.LogPath).Split('\n')
                .Select(line => AttemptLine().Match(line))
                .Count(m => m.Success && cueIds.Contains(m.Groups["cue"].Value))).ToArray();
            if (counts.Sum() >= expectedTotal)
            {
                break;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);

        return counts;
    }

    private static string ReadLog(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    // DeliverCueConsumer: "Execution {ExecutionId} attempt {Attempt} of cue {CueId}: {Result} …"
    [GeneratedRegex(@"Execution (?<execution>[0-9a-fA-F-]{36}) attempt (?<attempt>\d+) of cue (?<cue>[^:\s]+):")]
    private static partial Regex AttemptLine();
}
