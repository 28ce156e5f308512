using Cue.Scheduler.DueIndex;

namespace Cue.Scheduler.Dispatch;

/// <summary>Records the dispatch job's ticks, at most every few seconds, for health checks.</summary>
public sealed class SchedulerHeartbeat(DueIndexStore store, TimeProvider time)
{
    private static readonly TimeSpan WriteEvery = TimeSpan.FromSeconds(5);
    private DateTimeOffset lastWritten = DateTimeOffset.MinValue;

    public async Task TickedAsync(string instance, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - lastWritten >= WriteEvery)
        {
            lastWritten = now;
            await store.HeartbeatAsync(instance, now, cancellationToken);
        }
    }
}
