using Cue.Scheduler.Dispatch;
using Cue.Scheduler.DueIndex;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Cue.Scheduler.Health;

/// <summary>
/// The scheduler's lag: due-index rows overdue by more than the missed threshold that no scheduler holds.
/// Cue's projections all run inline with the append, so there is no projection daemon to fall behind;
/// the due index is where "falling behind" shows. Degraded, not down: a catch-up after downtime passes
/// through this state, and the scheduler stays the only thing that can drain it.
/// </summary>
internal sealed class DispatchLagHealthCheck(NpgsqlDataSource dataSource, TimeProvider time, IOptions<DispatchOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var missedAfter = options.Value.MissedAfter;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var command = dataSource.CreateCommand(
                $"select count(*), min(due_at) from {DueIndexTable.Name} where due_at < $1 and (lease_until is null or lease_until < $2)");
            command.Parameters.Add(new NpgsqlParameter { Value = (now - missedAfter).UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await using var reader = await command.ExecuteReaderAsync(timeout.Token);
            await reader.ReadAsync(timeout.Token);
            var overdue = reader.GetInt64(0);
            if (overdue == 0)
            {
                return HealthCheckResult.Healthy($"0 rows overdue by more than {missedAfter.TotalSeconds:0.###} s");
            }

            var oldest = reader.GetFieldValue<DateTimeOffset>(1);
            var behind = now - oldest;
            return HealthCheckResult.Degraded(
                $"{overdue} rows overdue by more than {missedAfter.TotalSeconds:0.###} s; oldest {behind.TotalSeconds:0} s behind");
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The due index could not be read.");
        }
    }
}
