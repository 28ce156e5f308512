using Cue.Contracts;
using Cue.Contracts.Messages;
using Cue.Scheduler.DueIndex;
using Cue.Scheduler.Occurrences;

namespace Cue.Scheduler.Dispatch;

/// <summary>What one claimed row turns into: the messages to send and how to advance the row afterwards.</summary>
public sealed record FirePlan(IReadOnlyList<DeliverCue> Messages, Advance Advance);

/// <summary>
/// Pure decisions of the dispatch job: which occurrence(s) a claimed row fires, with which deterministic
/// execution ids, and where the row goes next — including the catch-up policy after downtime (§6.4).
/// </summary>
public static class FirePlanner
{
    public const string SkipMissed = "skip_missed";
    public const string RunOnceIfMissed = "run_once_if_missed";
    public const string ReplayAllMissed = "replay_all_missed";

    /// <summary>At most this many missed occurrences are delivered per cue per catch-up (contract cap).</summary>
    public const int CatchUpCap = 100;

    public static FirePlan Plan(DueEntry entry, DateTimeOffset now, TimeSpan missedAfter)
    {
        if (entry.Kind == DueIndexTable.Retry)
        {
            var executionId = entry.ExecutionId ?? throw new InvalidOperationException($"Retry row {entry.Id} has no execution id.");
            var message = new DeliverCue(executionId, entry.CueId, entry.ScheduledFor ?? entry.DueAt, entry.Attempt, entry.TriggeredBy);
            return new FirePlan([message], new Advance.Remove(entry));
        }

        if (entry.ScheduleType != "recurring" || entry.Cron is null || entry.Timezone is null)
        {
            // A once cue fires, late if need be. Recording a late once cue as missed under skip_missed
            // (contract §6.4) needs the missed execution state, which arrives with the full API.
            return new FirePlan([Scheduled(entry.CueId, entry.DueAt)], new Advance.Remove(entry));
        }

        if (!CronSchedule.TryParse(entry.Cron, out var cron, out _) || !TimeZones.TryFind(entry.Timezone, out var zone, out _))
        {
            // The API validated both before accepting the cue; a row that no longer parses cannot fire.
            return new FirePlan([], new Advance.Remove(entry));
        }

        var late = now - entry.DueAt > missedAfter;
        var due = new List<DateTimeOffset>();
        var last = entry.DueAt;
        if (!late)
        {
            due.Add(entry.DueAt);
        }
        else
        {
            // Every occurrence from the row's due time up to now was missed; keep the most recent ones only.
            var missed = new Queue<DateTimeOffset>();
            for (DateTimeOffset? at = entry.DueAt; at is { } t && t <= now; at = cron.NextAfter(t, zone))
            {
                missed.Enqueue(t);
                if (missed.Count > CatchUpCap)
                {
                    missed.Dequeue();
                }

                last = t;
            }

            switch (entry.CatchUp)
            {
                case SkipMissed:
                    break;
                case ReplayAllMissed:
                    due.AddRange(missed);
                    break;
                default:
                    if (missed.Count > 0)
                    {
                        due.Add(missed.Last());
                    }

                    break;
            }
        }

        var messages = due.Select(at => Scheduled(entry.CueId, at)).ToList();
        var next = cron.NextAfter(last, zone);
        Advance advance = next is { } n ? new Advance.MoveTo(entry, n) : new Advance.Remove(entry);
        return new FirePlan(messages, advance);
    }

    private static DeliverCue Scheduled(string cueId, DateTimeOffset scheduledFor) =>
        new(ExecutionIds.ForScheduled(cueId, scheduledFor), cueId, scheduledFor, 1, TriggerKinds.Scheduled);
}
