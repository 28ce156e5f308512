using Cue.Scheduler.DueIndex;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Cue.Scheduler.Dispatch;

/// <summary>
/// Holds the rows the dispatch job claimed and sends each one's <c>DeliverCue</c> at its exact due
/// instant, then advances the due index in batches. A crash between send and advance re-sends after
/// the lease runs out; the deterministic execution id makes that harmless.
/// </summary>
public sealed class Dispatcher(
    DueIndexStore store,
    IBus bus,
    TimeProvider time,
    IOptions<DispatchOptions> options,
    ILogger<Dispatcher> logger) : BackgroundService
{
    private readonly Lock gate = new();
    private readonly PriorityQueue<DueEntry, DateTimeOffset> queue = new();
    private readonly HashSet<string> queued = [];
    private readonly SemaphoreSlim wake = new(0);

    /// <summary>Takes claimed rows; rows already waiting here are not queued twice.</summary>
    public void Accept(IEnumerable<DueEntry> entries)
    {
        var added = false;
        lock (gate)
        {
            foreach (var entry in entries)
            {
                if (queued.Add(entry.Id))
                {
                    queue.Enqueue(entry, entry.DueAt);
                    added = true;
                }
            }
        }

        if (added)
        {
            wake.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var ready = TakeReady(out var nextDue);
                if (ready.Count > 0)
                {
                    await FireAsync(ready, stoppingToken);
                    continue;
                }

                var wait = nextDue is { } due ? due - time.GetUtcNow() : Timeout.InfiniteTimeSpan;
                if (wait != Timeout.InfiniteTimeSpan && wait <= TimeSpan.Zero)
                {
                    continue;
                }

                using var waitCancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var woken = wake.WaitAsync(waitCancel.Token);
                var delay = wait == Timeout.InfiniteTimeSpan ? Task.Delay(Timeout.Infinite, waitCancel.Token) : Task.Delay(wait, time, waitCancel.Token);
                await Task.WhenAny(woken, delay);
                await waitCancel.CancelAsync();
                // Let both settle; the cancelled one must not keep a claim on a later wake-up.
                await Task.WhenAll(woken, delay).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await ReleaseUnsentAsync();
        }
    }

    private List<DueEntry> TakeReady(out DateTimeOffset? nextDue)
    {
        var now = time.GetUtcNow();
        var ready = new List<DueEntry>();
        lock (gate)
        {
            while (queue.TryPeek(out var entry, out var due) && due <= now)
            {
                queue.Dequeue();
                queued.Remove(entry.Id);
                ready.Add(entry);
            }

            nextDue = queue.TryPeek(out _, out var next) ? next : null;
        }

        return ready;
    }

    private async Task FireAsync(List<DueEntry> ready, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var plans = ready.Select(e => FirePlanner.Plan(e, now, options.Value.MissedAfter)).ToList();
        var failed = new List<DueEntry>();
        var advances = new List<Advance>(plans.Count);

        var publishTimeout = options.Value.PublishTimeout;
        await Task.WhenAll(plans.Select(async plan =>
        {
            using var activity = DispatchTelemetry.StartFire(plan, now);
            try
            {
                foreach (var message in plan.AllMessages())
                {
                    // Stop waiting, but never cancel the publish itself: cancelling MassTransit inside its connection
                    // retry during a broker outage left the publish path failing after the broker was back (torture).
                    // A publish that completes after the timeout only repeats a fire, under the same execution id.
                    await bus.Publish(message, message.GetType(), cancellationToken).WaitAsync(publishTimeout, time, cancellationToken);
                    DispatchTelemetry.Published(message, plan.Advance.Entry, time.GetUtcNow());
                }

                lock (advances)
                {
                    advances.Add(plan.Advance);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                DispatchTelemetry.Failed(activity, ex);
                logger.LogWarning(ex, "Publishing the fire of cue {CueId} due {DueAt} failed; it will be claimed again", plan.Advance.Entry.CueId, plan.Advance.Entry.DueAt);
                lock (failed)
                {
                    failed.Add(plan.Advance.Entry);
                }
            }
        }));

        try
        {
            await store.AdvanceAsync(advances, cancellationToken);
            await store.ReleaseAsync(failed, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The messages are out; the rows stay leased and are re-sent after the lease (same execution ids).
            logger.LogWarning(ex, "Advancing {Count} due-index rows failed; they will be re-sent after their lease", advances.Count);
        }
    }

    private async Task ReleaseUnsentAsync()
    {
        List<DueEntry> unsent;
        lock (gate)
        {
            unsent = [.. queue.UnorderedItems.Select(i => i.Element)];
            queue.Clear();
            queued.Clear();
        }

        if (unsent.Count == 0)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await store.ReleaseAsync(unsent, timeout.Token);
            logger.LogInformation("Released {Count} claimed due-index rows on shutdown", unsent.Count);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not release {Count} claimed rows on shutdown; their lease will expire", unsent.Count);
        }
    }

    public override void Dispose()
    {
        wake.Dispose();
        base.Dispose();
    }
}
