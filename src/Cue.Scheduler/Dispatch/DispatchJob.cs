using Cue.Scheduler.DueIndex;
using Microsoft.Extensions.Options;
using Quartz;

namespace Cue.Scheduler.Dispatch;

/// <summary>
/// The one Quartz job: fired on a short interval from the clustered ADO store (durable, one runner at a
/// time across nodes, misfire-aware), it claims the due index's rows due within the look-ahead in
/// batches and hands them to the <see cref="Dispatcher"/>, which sends each at its due instant.
/// </summary>
[DisallowConcurrentExecution]
public sealed class DispatchJob(
    DueIndexStore store,
    Dispatcher dispatcher,
    TimeProvider time,
    IOptions<DispatchOptions> options,
    SchedulerHeartbeat heartbeat) : IJob
{
    public static readonly JobKey Key = new("dispatch", "cue");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        while (true)
        {
            var now = time.GetUtcNow();
            var claimed = await store.ClaimAsync(now, now + settings.Lookahead, now + settings.Lease, settings.BatchSize, cancellationToken);
            dispatcher.Accept(claimed);
            if (claimed.Count < settings.BatchSize)
            {
                break;
            }
        }

        await heartbeat.TickedAsync(context.Scheduler.SchedulerInstanceId, cancellationToken);
    }
}
