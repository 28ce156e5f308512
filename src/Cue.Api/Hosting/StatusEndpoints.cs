using Cue.Hosting;
using Cue.Scheduler.DueIndex;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Cue.Api.Hosting;

/// <summary><c>GET /health</c> and <c>GET /status</c> of contract §5.4: unauthenticated, never rate limited.</summary>
public static class StatusEndpoints
{
    public static readonly TimeSpan SchedulerStaleAfter = TimeSpan.FromSeconds(30);

    public static void MapStatusEndpoints(this WebApplication app)
    {
        app.MapGet("/health", async (HealthCheckService health, NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellationToken) =>
        {
            var checks = await CheckAsync(health, dataSource, time, cancellationToken);
            var healthy = checks.Values.All(v => v == "ok");
            return Results.Json(new
            {
                status = healthy ? "healthy" : "degraded",
                version = ServiceVersion.Current,
                timestamp = time.GetUtcNow(),
                checks,
            }, Json.Options);
        });

        app.MapGet("/status", async (HealthCheckService health, NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellationToken) =>
        {
            var checks = await CheckAsync(health, dataSource, time, cancellationToken);
            var down = checks.Where(c => c.Key != "scheduler" && c.Value != "ok").Select(c => c.Key).ToList();
            if (down.Count > 0)
            {
                var reason = string.Join(" and ", down) + " unreachable";
                return Results.Json(new
                {
                    status = "down",
                    reason,
                    error = new { code = "service_unavailable", message = "Cue is unavailable: " + reason + ".", status = 503 },
                }, Json.Options, statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return checks["scheduler"] == "ok"
                ? Results.Json(new { status = "healthy" }, Json.Options)
                : Results.Json(new { status = "degraded", reason = "scheduler " + checks["scheduler"] }, Json.Options);
        });
    }

    private static async Task<Dictionary<string, string>> CheckAsync(HealthCheckService health, NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(c => c.Tags.Contains(HealthEndpoints.ReadyTag), cancellationToken);
        string State(Func<KeyValuePair<string, HealthReportEntry>, bool> pick) =>
            report.Entries.Where(pick).ToList() is { Count: > 0 } found && found.All(e => e.Value.Status == HealthStatus.Healthy) ? "ok" : "down";

        var database = State(e => e.Key == "database");
        var broker = State(e => e.Key == HealthEndpoints.BrokerCheck);
        var scheduler = database == "ok" ? await SchedulerAsync(dataSource, time, cancellationToken) : "down";
        return new Dictionary<string, string> { ["database"] = database, ["broker"] = broker, ["scheduler"] = scheduler };
    }

    /// <summary>The scheduler is <c>ok</c> when some instance ran the dispatch job within the last 30 s, else <c>stale</c>.</summary>
    private static async Task<string> SchedulerAsync(NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand($"select max(ticked_at) from {DueIndexTable.HeartbeatName}");
            var last = await command.ExecuteScalarAsync(cancellationToken);
            return last is DateTime at && time.GetUtcNow() - new DateTimeOffset(at, TimeSpan.Zero) <= SchedulerStaleAfter ? "ok" : "stale";
        }
        catch (NpgsqlException)
        {
            return "down";
        }
    }
}
