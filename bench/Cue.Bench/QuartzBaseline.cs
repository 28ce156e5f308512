using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;

namespace Cue.Bench;

/// <summary>
/// Quartz alone, as design.md measured it: one one-shot trigger per job on the clustered ADO job store
/// (provisioned the way Cue.Scheduler does it) in a schema of the scratch database, all due at the same
/// instant, no-op jobs. Tuned as design.md records: maxConcurrency = batch acquisition max count = 100,
/// no fire-ahead window, Npgsql auto-prepare, ANALYZE after the bulk insert.
/// </summary>
internal static class QuartzBaseline
{
    private const string Schema = "bench_quartz";
    private const int Tuned = 100;

    public static async Task<QuartzResult> RunAsync(string scratch, int jobs)
    {
        await using (var connection = new NpgsqlConnection(scratch))
        {
            await connection.OpenAsync();
            await using var reset = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE; CREATE SCHEMA {Schema}", connection);
            await reset.ExecuteNonQueryAsync();
        }

        var store = new NpgsqlConnectionStringBuilder(scratch) { SearchPath = Schema, MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 }.ConnectionString;
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = "cue-bench-quartz";
                s.MaxBatchSize = Tuned;
                s.BatchTriggerAcquisitionFireAheadTimeWindow = TimeSpan.Zero;
            });
            q.UseDefaultThreadPool(Tuned);
            q.UsePersistentStore(p =>
            {
                p.UsePostgres(store);
                p.UseSystemTextJsonSerializer();
                p.UseClustering(c => c.CheckinInterval = TimeSpan.FromSeconds(5));
                p.ProvisionSchema();
                // Every trigger is already due when the scheduler starts: none may take the misfire path.
                p.ConfigureStore(o => o.MisfireThreshold = TimeSpan.FromMinutes(30));
            });
        });
        await using var provider = services.BuildServiceProvider();
        var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler();
        // Starting provisions the schema; standby keeps it from firing while the triggers are stored.
        await scheduler.Start();
        await scheduler.Standby();

        var due = TimeProvider.System.GetUtcNow().AddSeconds(1);
        var storing = Stopwatch.StartNew();
        foreach (var chunk in Enumerable.Range(0, jobs).Chunk(500))
        {
            var batch = chunk.ToDictionary(
                i => JobBuilder.Create<NoOpJob>().WithIdentity($"job-{i}", "bench").Build(),
                i => (IReadOnlyCollection<ITrigger>)[TriggerBuilder.Create().WithIdentity($"trigger-{i}", "bench").StartAt(due).Build()]);
            await scheduler.ScheduleJobs(batch, new ScheduleJobOptions());
        }

        var storedPerSecond = jobs / storing.Elapsed.TotalSeconds;
        await using (var connection = new NpgsqlConnection(store))
        {
            await connection.OpenAsync();
            await using var analyze = new NpgsqlCommand("ANALYZE qrtz_triggers; ANALYZE qrtz_simple_triggers; ANALYZE qrtz_job_details", connection);
            await analyze.ExecuteNonQueryAsync();
        }

        NoOpJob.Reset(jobs);
        var started = TimeProvider.System.GetUtcNow();
        await scheduler.Start();
        var finished = await Task.WhenAny(NoOpJob.AllFired.Task, Task.Delay(TimeSpan.FromMinutes(3)));
        await scheduler.Shutdown(waitForJobsToComplete: true);
        var fired = NoOpJob.Fired;
        var first = NoOpJob.First;
        var last = NoOpJob.Last;
        var span = (last - first).TotalSeconds;
        return new QuartzResult(
            FiresPerSecond: span > 0 ? (fired - 1) / span : double.NaN,
            FirstToLastSeconds: span,
            StartToLastSeconds: (last - started).TotalSeconds,
            StoredPerSecond: storedPerSecond,
            Fired: fired,
            Expected: jobs,
            Complete: finished == NoOpJob.AllFired.Task);
    }

    /// <summary>Does nothing but note that it ran and when.</summary>
    internal sealed class NoOpJob : IJob
    {
        private static long fired;
        private static long firstTicks;
        private static long lastTicks;
        private static int expected;

        public static TaskCompletionSource AllFired { get; private set; } = new();
        public static int Fired => (int)Interlocked.Read(ref fired);
        public static DateTimeOffset First => new(Interlocked.Read(ref firstTicks), TimeSpan.Zero);
        public static DateTimeOffset Last => new(Interlocked.Read(ref lastTicks), TimeSpan.Zero);

        public static void Reset(int jobs)
        {
            expected = jobs;
            fired = 0;
            firstTicks = 0;
            lastTicks = 0;
            AllFired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            var now = TimeProvider.System.GetUtcNow().UtcTicks;
            Interlocked.CompareExchange(ref firstTicks, now, 0);
            long seen;
            while ((seen = Interlocked.Read(ref lastTicks)) < now && Interlocked.CompareExchange(ref lastTicks, now, seen) != seen)
            {
            }

            if (Interlocked.Increment(ref fired) == expected)
            {
                AllFired.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }
    }
}

internal sealed record QuartzResult(
    double FiresPerSecond, double FirstToLastSeconds, double StartToLastSeconds, double StoredPerSecond, int Fired, int Expected, bool Complete);
