using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cue.Contracts;
using Cue.Contracts.Messages;
using Cue.Hosting;
using Cue.Scheduler.DueIndex;
using Npgsql;
using NpgsqlTypes;

namespace Cue.Scheduler.Dispatch;

/// <summary>The dispatcher's span and measurements: one <c>cue.fire</c> span per fired row, the root of a fire's trace.</summary>
internal static class DispatchTelemetry
{
    /// <summary>
    /// Starts the span the row's messages are published under, so MassTransit's send spans (and with them
    /// the delivery, the webhook POST and the audit append downstream) are its children.
    /// </summary>
    public static Activity? StartFire(FirePlan plan, DateTimeOffset now)
    {
        var entry = plan.Advance.Entry;
        // A fire starts its own trace: nothing ambient may become its parent. The caller is an async
        // method of its own, so clearing the ambient span here does not reach back into the dispatch loop.
        Activity.Current = null;
        var activity = CueTelemetry.Source.StartActivity("cue.fire");
        if (activity is null)
        {
            return null;
        }

        activity.SetTag(CueTelemetry.CueId, entry.CueId);
        activity.SetTag(CueTelemetry.Trigger, entry.TriggeredBy);
        activity.SetTag(CueTelemetry.Attempt, entry.Attempt);
        activity.SetTag("cue.due_at", Timestamps.ToWire(entry.DueAt));
        activity.SetTag(CueTelemetry.LagMs, (now - entry.DueAt).TotalMilliseconds);
        if (plan.Messages is [var only])
        {
            activity.SetTag(CueTelemetry.ExecutionId, only.ExecutionId.ToString("D"));
            activity.SetTag(CueTelemetry.ScheduledFor, Timestamps.ToWire(only.ScheduledFor));
        }
        else
        {
            // A catch-up sends several occurrences (or none) for one row.
            activity.SetTag("cue.deliveries", plan.Messages.Count);
            activity.SetTag("cue.missed", plan.Missed.Count);
        }

        return activity;
    }

    /// <summary>Counts a published <c>DeliverCue</c> and how late it went out against its due time.</summary>
    public static void Published(object message, DueEntry entry, DateTimeOffset now)
    {
        if (message is not DeliverCue deliver)
        {
            return;
        }

        var retry = deliver.Attempt > 1;
        CueTelemetry.Fires.Add(1, new(CueTelemetry.Trigger, deliver.TriggeredBy), new(CueTelemetry.Retry, retry));
        // A first attempt is due at its occurrence; a retry at its row's time (scheduled_for stays the occurrence's).
        var due = retry ? entry.DueAt : deliver.ScheduledFor;
        CueTelemetry.FireLag.Record((now - due).TotalMilliseconds, new(CueTelemetry.Stage, "dispatch"), new(CueTelemetry.Trigger, deliver.TriggeredBy));
    }

    public static void Failed(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
    }
}

/// <summary>
/// <c>cue.queue.depth</c>: due-index rows whose time has come and that are still in the table (not yet
/// dispatched, or waiting out a claim). Read every few seconds, and only while something collects metrics,
/// so an export never waits on the database.
/// </summary>
internal sealed class QueueDepthGauge(NpgsqlDataSource dataSource, TimeProvider time, ILogger<QueueDepthGauge> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static long depth = -1;

    private static readonly ObservableGauge<long> Gauge = CueTelemetry.Meter.CreateObservableGauge(
        "cue.queue.depth",
        () => Volatile.Read(ref depth) is var d and >= 0 ? [new Measurement<long>(d)] : Array.Empty<Measurement<long>>(),
        "{row}",
        "Due-index rows already due and not yet dispatched.");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                if (Gauge.Enabled)
                {
                    await ReadAsync(stoppingToken);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand($"select count(*) from {DueIndexTable.Name} where due_at <= $1");
            command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow().ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            var count = (long)(await command.ExecuteScalarAsync(cancellationToken) ?? 0L);
            Volatile.Write(ref depth, count);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // A gap in the gauge is better than a stale number.
            Volatile.Write(ref depth, -1);
            logger.LogDebug(ex, "Reading the due-index depth failed");
        }
    }
}
