using Microsoft.Extensions.Diagnostics.HealthChecks;
using Quartz;

namespace Cue.Scheduler.Health;

/// <summary>
/// Ready only while Quartz runs the dispatch job: started, not in standby, not shutting down. A scheduler
/// that answers HTTP but whose Quartz never started (or was put in standby) fires nothing.
/// </summary>
internal sealed class QuartzHealthCheck(ISchedulerFactory factory) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var scheduler = await factory.GetScheduler(cancellationToken);
        var metadata = await scheduler.GetMetadata(cancellationToken);
        return metadata.Status == SchedulerStatus.Running
            ? HealthCheckResult.Healthy("running")
            : HealthCheckResult.Unhealthy($"Quartz is {metadata.Status.ToString().ToLowerInvariant()}.");
    }
}
