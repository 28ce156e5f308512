using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cue.Hosting;

/// <summary>
/// Cue's own spans and instruments. Every service reports under the one name <c>Cue</c>; the service
/// itself is told apart by the <c>service.name</c> resource. Tags carry ids, kinds, results and times
/// only: never payloads, callback URLs, headers, secrets or e-mail addresses.
/// </summary>
internal static class CueTelemetry
{
    public const string Name = "Cue";

    public static readonly ActivitySource Source = new(Name, ServiceVersion.Current);
    public static readonly Meter Meter = new(Name, ServiceVersion.Current);

    /// <summary><c>DeliverCue</c> messages the scheduler published (first attempts and retries), by trigger kind.</summary>
    public static readonly Counter<long> Fires = Meter.CreateCounter<long>(
        "cue.fires", "{fire}", "DeliverCue messages published by the scheduler, by trigger kind (cue.retry marks attempts after the first).");

    /// <summary>Webhook attempts the delivery worker made, by result.</summary>
    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>(
        "cue.deliveries", "{attempt}", "Webhook delivery attempts, by result (success, retryable_failure, blocked, interrupted).");

    /// <summary>How late a fire was: published − due (scheduler) and attempt start − scheduled_for (delivery, first attempts).</summary>
    public static readonly Histogram<double> FireLag = Meter.CreateHistogram<double>(
        "cue.fire.lag", "ms", "How late a fire was: publish time minus due time at the scheduler (cue.stage=dispatch), attempt start minus scheduled_for at the delivery worker (cue.stage=delivery, first attempts).");

    /// <summary>Failed attempts for which the delivery worker scheduled another attempt.</summary>
    public static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "cue.retries", "{retry}", "Failed attempts for which another attempt was scheduled.");

    // Attribute names, shared so the three services tag alike.
    public const string CueId = "cue.id";
    public const string ExecutionId = "cue.execution_id";
    public const string Attempt = "cue.attempt";
    public const string Trigger = "cue.trigger";
    public const string ScheduledFor = "cue.scheduled_for";
    public const string Result = "cue.result";
    public const string Retry = "cue.retry";
    public const string Stage = "cue.stage";
    public const string LagMs = "cue.lag_ms";
}

/// <summary>
/// Traces, metrics and logs through OpenTelemetry, configured by the standard <c>OTEL_*</c> settings
/// (environment variables or any other configuration source): <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>,
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_EXPORTER_OTLP_HEADERS</c>, <c>OTEL_SERVICE_NAME</c>,
/// <c>OTEL_RESOURCE_ATTRIBUTES</c>, <c>OTEL_BSP_*</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c>, and per signal
/// <c>OTEL_TRACES_EXPORTER</c> / <c>OTEL_METRICS_EXPORTER</c> / <c>OTEL_LOGS_EXPORTER</c>
/// (<c>otlp</c>, <c>console</c>, <c>none</c>, comma-separated).
/// </summary>
internal static class TelemetryHosting
{
    /// <summary>
    /// OTLP is used only where an endpoint is configured and the console exporter by default only in
    /// Development, so a service with no collector exports nothing, and a signal with no exporter is not
    /// collected at all (no listener, no cost). The SDK's exporters never block or fail the caller.
    /// </summary>
    public static WebApplicationBuilder AddCueTelemetry(this WebApplicationBuilder builder, string serviceName)
    {
        var configuration = builder.Configuration;
        if (bool.TryParse(configuration["OTEL_SDK_DISABLED"], out var disabled) && disabled)
        {
            return builder;
        }

        var development = builder.Environment.IsDevelopment();
        var traces = Exporters.For(configuration, "TRACES", development);
        var metrics = Exporters.For(configuration, "METRICS", development);
        var logs = Exporters.For(configuration, "LOGS", development);
        if (!traces.Any && !metrics.Any && !logs.Any)
        {
            return builder;
        }

        var name = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } configured ? configured : serviceName;
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(name, serviceVersion: ServiceVersion.Current));

        if (traces.Any)
        {
            otel.WithTracing(t =>
            {
                t.AddSource(CueTelemetry.Name, "MassTransit")
                    // Health probes poll every few seconds; a trace per probe would bury the fires.
                    .AddAspNetCoreInstrumentation(o => o.Filter = c => !c.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase))
                    .AddHttpClientInstrumentation()
                    .AddProcessor(new ClientUrlScrubber());
                if (traces.Otlp)
                {
                    t.AddOtlpExporter();
                }

                if (traces.Console)
                {
                    t.AddConsoleExporter();
                }
            });
        }

        if (metrics.Any)
        {
            otel.WithMetrics(m =>
            {
                m.AddMeter(CueTelemetry.Name, "MassTransit", "System.Runtime")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                if (metrics.Otlp)
                {
                    m.AddOtlpExporter();
                }

                if (metrics.Console)
                {
                    m.AddConsoleExporter();
                }
            });
        }

        if (logs.Any)
        {
            otel.WithLogging(
                l =>
                {
                    if (logs.Otlp)
                    {
                        l.AddOtlpExporter();
                    }

                    if (logs.Console)
                    {
                        l.AddConsoleExporter();
                    }
                },
                o => o.IncludeFormattedMessage = true);
        }

        return builder;
    }

    private readonly record struct Exporters(bool Otlp, bool Console)
    {
        public bool Any => Otlp || Console;

        /// <summary>
        /// <c>OTEL_{signal}_EXPORTER</c> when set; otherwise OTLP if an endpoint is configured, plus the
        /// console in Development. OTLP always needs an endpoint: without one it would dial localhost.
        /// </summary>
        public static Exporters For(ConfigurationManager configuration, string signal, bool development)
        {
            var endpoint = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
                || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);
            var chosen = configuration[$"OTEL_{signal}_EXPORTER"];
            if (string.IsNullOrWhiteSpace(chosen))
            {
                return new Exporters(endpoint, development);
            }

            var names = chosen.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(n => n.ToLowerInvariant())
                .ToHashSet();
            return names.Contains("none")
                ? default
                : new Exporters(endpoint && names.Contains("otlp"), names.Contains("console"));
        }
    }

    /// <summary>
    /// Callback URLs often carry a token in their path or query (chat webhooks) and may carry user info:
    /// an outgoing request's span keeps the scheme, host and port only. Added before the exporters, so it
    /// runs before they see the span.
    /// </summary>
    private sealed class ClientUrlScrubber : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.Kind == ActivityKind.Client && data.GetTagItem("url.full") is string url && Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                data.SetTag("url.full", uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped));
            }
        }
    }
}
