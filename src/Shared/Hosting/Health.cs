using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Cue.Hosting;

/// <summary>Checks that PostgreSQL answers a trivial query.</summary>
internal sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var command = dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable.");
        }
    }
}

internal static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    /// <summary>The tag MassTransit gives its bus health check.</summary>
    public const string MassTransitTag = "masstransit";

    /// <summary>The name the RabbitMQ bus check answers under in <c>/health/ready</c>.</summary>
    public const string BrokerCheck = "broker";

    /// <summary>
    /// Names MassTransit's bus check <c>broker</c> and tags it for <c>/health/ready</c> explicitly, rather
    /// than relying on MassTransit's default tags (setting any tag replaces them).
    /// </summary>
    public static void AddCueBrokerHealth(this IBusRegistrationConfigurator bus) =>
        bus.ConfigureHealthCheckOptions(o =>
        {
            o.Name = BrokerCheck;
            o.Tags.Add(ReadyTag);
            o.Tags.Add(MassTransitTag);
        });

    /// <summary>
    /// <c>/health/live</c>: the process answers. <c>/health/ready</c>: its dependencies answer too, as JSON
    /// listing every check; 200 when none is down (a degraded check, such as a scheduler falling behind,
    /// still answers 200 and says so), 503 otherwise.
    /// </summary>
    public static void MapCueHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag) || c.Tags.Contains(MassTransitTag),
            ResponseWriter = WriteAsync,
        });
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var checks = report.Entries.ToDictionary(e => e.Key, e => Word(e.Value.Status));
        // Descriptions are our own fixed sentences or MassTransit's endpoint states; exceptions are never written.
        var details = report.Entries.Where(e => !string.IsNullOrEmpty(e.Value.Description))
            .ToDictionary(e => e.Key, e => e.Value.Description!);
        var status = report.Status switch
        {
            HealthStatus.Healthy => "healthy",
            HealthStatus.Degraded => "degraded",
            _ => "down",
        };
        return context.Response.WriteAsJsonAsync(new { status, checks, details });
    }

    private static string Word(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "ok",
        HealthStatus.Degraded => "degraded",
        _ => "down",
    };
}
