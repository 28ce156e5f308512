using MassTransit;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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

/// <summary>
/// RabbitMQ as this service sees it. MassTransit's bus state alone misses an outage when the service has no
/// receive endpoint (the scheduler only publishes: its bus stays "Ready" while the broker is gone), so the
/// check first opens a TCP connection to the broker's address, then reads the bus's own health.
/// </summary>
internal sealed class BrokerHealthCheck(IBusControl bus, IConfiguration configuration) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var uri = Settings.RabbitMq(configuration);
        var port = Settings.RabbitMqPort(uri);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var socket = new TcpClient();
            await socket.ConnectAsync(uri.Host, port, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "RabbitMQ is unreachable.");
        }

        var result = bus.CheckHealth();
        return result.Status switch
        {
            BusHealthStatus.Healthy => HealthCheckResult.Healthy(result.Description),
            BusHealthStatus.Degraded => HealthCheckResult.Degraded(result.Description),
            _ => new HealthCheckResult(context.Registration.FailureStatus, result.Description),
        };
    }
}

internal static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    /// <summary>The tag MassTransit gives its bus health check.</summary>
    public const string MassTransitTag = "masstransit";

    /// <summary>The name the RabbitMQ check answers under in <c>/health/ready</c>.</summary>
    public const string BrokerCheck = "broker";

    /// <summary>
    /// MassTransit's own bus check stays registered (as <c>bus</c>, outside <c>/health/ready</c>): the
    /// <c>broker</c> check reads the same bus state and adds what it cannot see (<see cref="BrokerHealthCheck"/>).
    /// </summary>
    public static void AddCueBrokerHealth(this IBusRegistrationConfigurator bus) =>
        bus.ConfigureHealthCheckOptions(o =>
        {
            o.Name = "bus";
            o.Tags.Add(MassTransitTag);
        });

    /// <summary>
    /// Adds the <c>broker</c> readiness check. <paramref name="failureStatus"/> is what an unreachable broker
    /// means for this service: <c>Unhealthy</c> (503) for the scheduler and the delivery worker, which can do
    /// nothing without it; <c>Degraded</c> (200) for the API, which keeps accepting and serving cues (the event
    /// log is the outbox) and records the audit trail once the broker returns.
    /// </summary>
    public static IHealthChecksBuilder AddCueBrokerCheck(this IHealthChecksBuilder builder, HealthStatus failureStatus) =>
        builder.AddCheck<BrokerHealthCheck>(BrokerCheck, failureStatus, [ReadyTag]);

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
            Predicate = c => c.Tags.Contains(ReadyTag),
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
