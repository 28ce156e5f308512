using Cue.Contracts;
using Cue.Contracts.Messages;
using Cue.Scheduler.DueIndex;
using Cue.Scheduler.Occurrences;

namespace Cue.Scheduler.Dispatch;

/// <summary>
/// What one claimed row turns into: the deliveries to send, the occurrences to record as missed, a
/// notice when a catch-up was capped, and how to advance the row once they are all on the bus.
/// </summary>
public sealed record FirePlan(IReadOnlyList<DeliverCue> Messages, Advance Advance)
{
    public IReadOnlyList<OccurrenceMissed> Missed { get; init; } = [];
    public CatchUpCapped? Capped { get; init; }

    /// <summary>Everything to publish, in order: missed records first, then deliveries oldest first.</summary>
    public IEnumerable<object> AllMessages()
    {
        foreach (var missed in Missed)
        {
            yield return missed;
        }

        foreach (var message in Messages)
        {
            yield return message;
        }

        if (Capped is not null)
        {
            yield return Capped;
        }
    }
}

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

    public const string MissedReason = "missed: the scheduler could not start it within the missed threshold (catch_up policy)";

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
            // A once cue fires, late if need be, unless it was missed under skip_missed (§6.4).
            return now - entry.DueAt > missedAfter && entry.CatchUp == SkipMissed
                ? new FirePlan([], new Advance.Remove(entry)) { Missed = [Missed(entry.CueId, entry.DueAt)] }
                : new FirePlan([Scheduled(entry.CueId, entry.DueAt)], new Advance.Remove(entry));
        }

        if (!CronSchedule.TryParse(entry.Cron, out var cron, out _) || !TimeZones.TryFind(entry.Timezone, out var zone, out _))
        {
            // The API validated both before accepting the cue; a row that no longer parses cannot fire.
            return new FirePlan([], new Advance.Remove(entry));
        }

        var late = now - entry.DueAt > missedAfter;
        if (!late)
        {
            var following = cron.NextAfter(entry.DueAt, zone);
            return new FirePlan([Scheduled(entry.CueId, entry.DueAt)], following is { } f ? new Advance.MoveTo(entry, f) : new Advance.Remove(entry));
        }

        // Every occurrence from the row's due time up to now was missed; keep the most recent ones only.
        var missed = new Queue<DateTimeOffset>();
        var dropped = 0;
        DateTimeOffset? droppedUntil = null;
        var last = entry.DueAt;
        for (DateTimeOffset? at = entry.DueAt; at is { } t && t <= now; at = cron.NextAfter(t, zone))
        {
            missed.Enqueue(t);
            if (missed.Count > CatchUpCap)
            {
                droppedUntil = missed.Dequeue();
                dropped++;
            }

            last = t;
        }

        var deliver = entry.CatchUp switch
        {
            SkipMissed => [],
            ReplayAllMissed => missed.ToList(),
            _ => missed.Count > 0 ? [missed.Last()] : new List<DateTimeOffset>(),
        };

        var next = cron.NextAfter(last, zone);
        Advance advance = next is { } n ? new Advance.MoveTo(entry, n) : new Advance.Remove(entry);
        return new FirePlan([.. deliver.Select(at => Scheduled(entry.CueId, at))], advance)
        {
            Missed = [.. missed.Except(deliver).Select(at => Missed(entry.CueId, at))],
            Capped = dropped > 0 && droppedUntil is { } until ? new CatchUpCapped(entry.CueId, dropped, until, now) : null,
        };
    }

    private static OccurrenceMissed Missed(string cueId, DateTimeOffset scheduledFor) =>
        new(ExecutionIds.ForScheduled(cueId, scheduledFor), cueId, scheduledFor, MissedReason);

    private static DeliverCue Scheduled(string cueId, DateTimeOffset scheduledFor) =>
        new(ExecutionIds.ForScheduled(cueId, scheduledFor), cueId, scheduledFor, 1, TriggerKinds.Scheduled);
}
