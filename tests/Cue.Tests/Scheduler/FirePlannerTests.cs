using Cue.Contracts;
using Cue.Scheduler.Dispatch;
using Cue.Scheduler.DueIndex;
using Cue.Scheduler.Occurrences;

namespace Cue.Tests.Scheduler;

/// <summary>The dispatch job's pure decisions, including catch-up after downtime (contract §6.4).</summary>
public sealed class Planning_a_claimed_row
{
    private static readonly TimeSpan MissedAfter = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset Noon = new(2026, 3, 20, 12, 0, 0, TimeSpan.Zero);

    private static DueEntry Recurring(DateTimeOffset due, string catchUp = FirePlanner.RunOnceIfMissed, string cron = "*/5 * * * *") =>
        new("o:cue_abc", "cue_abc", DueIndexTable.Occurrence, due, null, 1, TriggerKinds.Scheduled, null, "recurring", cron, "UTC", catchUp, 1);

    [Test]
    public void An_on_time_recurring_row_fires_its_occurrence_and_moves_to_the_next()
    {
        var plan = FirePlanner.Plan(Recurring(Noon), Noon.AddMilliseconds(3), MissedAfter);

        Assert.That(plan.Messages, Has.Count.EqualTo(1));
        var message = plan.Messages[0];
        Assert.Multiple(() =>
        {
            Assert.That(message.ScheduledFor, Is.EqualTo(Noon));
            Assert.That(message.ExecutionId, Is.EqualTo(ExecutionIds.ForScheduled("cue_abc", Noon)));
            Assert.That(message.Attempt, Is.EqualTo(1));
            Assert.That(message.TriggeredBy, Is.EqualTo("scheduled"));
            Assert.That(plan.Advance, Is.EqualTo(new Advance.MoveTo(Recurring(Noon), Noon.AddMinutes(5))));
        });
    }

    [Test]
    public void A_once_row_fires_and_is_removed()
    {
        var entry = new DueEntry("o:cue_x", "cue_x", DueIndexTable.Occurrence, Noon, null, 1, "scheduled", null, "once", null, "UTC", FirePlanner.RunOnceIfMissed, 1);
        var plan = FirePlanner.Plan(entry, Noon, MissedAfter);
        Assert.That(plan.Messages.Select(m => m.ScheduledFor), Is.EqualTo(new[] { Noon }));
        Assert.That(plan.Advance, Is.TypeOf<Advance.Remove>());
    }

    [Test]
    public void A_retry_row_resends_its_execution_with_the_next_attempt_number()
    {
        var execution = Guid.NewGuid();
        var entry = new DueEntry("r:" + execution, "cue_x", DueIndexTable.Retry, Noon.AddMinutes(1), execution, 2, "scheduled", Noon, null, null, null, null, 0);
        var plan = FirePlanner.Plan(entry, Noon.AddMinutes(1), MissedAfter);
        Assert.That(plan.Messages, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(plan.Messages[0].ExecutionId, Is.EqualTo(execution));
            Assert.That(plan.Messages[0].Attempt, Is.EqualTo(2));
            Assert.That(plan.Messages[0].ScheduledFor, Is.EqualTo(Noon), "a retry keeps the execution's scheduled_for");
            Assert.That(plan.Advance, Is.TypeOf<Advance.Remove>());
        });
    }

    [Test]
    public void After_downtime_run_once_if_missed_delivers_only_the_latest_missed_occurrence()
    {
        // Down from 12:00 to 12:21: 12:00, 12:05, 12:10, 12:15, 12:20 were missed.
        var plan = FirePlanner.Plan(Recurring(Noon), Noon.AddMinutes(21), MissedAfter);
        Assert.That(plan.Messages.Select(m => m.ScheduledFor), Is.EqualTo(new[] { Noon.AddMinutes(20) }));
        Assert.That(((Advance.MoveTo)plan.Advance).NextDueAt, Is.EqualTo(Noon.AddMinutes(25)));
    }

    [Test]
    public void After_downtime_replay_all_missed_delivers_every_missed_occurrence_oldest_first()
    {
        var plan = FirePlanner.Plan(Recurring(Noon, FirePlanner.ReplayAllMissed), Noon.AddMinutes(21), MissedAfter);
        Assert.That(plan.Messages.Select(m => m.ScheduledFor),
            Is.EqualTo(new[] { Noon, Noon.AddMinutes(5), Noon.AddMinutes(10), Noon.AddMinutes(15), Noon.AddMinutes(20) }));
        Assert.That(plan.Messages.Select(m => m.ExecutionId).Distinct().Count(), Is.EqualTo(5));
    }

    [Test]
    public void After_downtime_skip_missed_delivers_nothing_and_resumes_with_the_next_occurrence()
    {
        var plan = FirePlanner.Plan(Recurring(Noon, FirePlanner.SkipMissed), Noon.AddMinutes(21), MissedAfter);
        Assert.That(plan.Messages, Is.Empty);
        Assert.That(((Advance.MoveTo)plan.Advance).NextDueAt, Is.EqualTo(Noon.AddMinutes(25)));
    }

    [Test]
    public void Replay_all_missed_is_capped_at_the_most_recent_hundred()
    {
        var plan = FirePlanner.Plan(Recurring(Noon, FirePlanner.ReplayAllMissed, "* * * * *"), Noon.AddMinutes(250).AddSeconds(30), MissedAfter);
        Assert.That(plan.Messages, Has.Count.EqualTo(FirePlanner.CatchUpCap));
        Assert.Multiple(() =>
        {
            Assert.That(plan.Messages[0].ScheduledFor, Is.EqualTo(Noon.AddMinutes(151)));
            Assert.That(plan.Messages[^1].ScheduledFor, Is.EqualTo(Noon.AddMinutes(250)));
        });
    }

    [Test]
    public void A_row_late_by_less_than_the_missed_threshold_is_delivered_as_it_is()
    {
        var plan = FirePlanner.Plan(Recurring(Noon, FirePlanner.SkipMissed), Noon.AddSeconds(59), MissedAfter);
        Assert.That(plan.Messages.Select(m => m.ScheduledFor), Is.EqualTo(new[] { Noon }));
    }
}
