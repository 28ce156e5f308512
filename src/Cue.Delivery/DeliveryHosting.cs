using Microsoft.Extensions.Diagnostics.HealthChecks;
using Cue.Delivery.Sending;
using Cue.Delivery.Targets;
using Cue.Encryption;
using Cue.Hosting;
using Marten;
using MassTransit;
using Npgsql;
using JasperFx;

namespace Cue.Delivery;

internal static class DeliveryHosting
{
    public static WebApplicationBuilder AddCueDelivery(this WebApplicationBuilder builder)
    {
        // Deliveries hold a connection only for short reads and one insert each: 20 serve 128 in flight.
        var dataSource = Settings.PostgresDataSource(builder.Configuration, defaultMaxPoolSize: 20);
        builder.AddCueTelemetry("cue-delivery");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        // Read-only: the API owns the schema and writes these views inline with its appends.
        builder.Services.AddMarten(opts =>
        {
            opts.ApplyCueDefaults(dataSource);
            opts.AutoCreateSchemaObjects = AutoCreate.None;
            opts.Schema.For<DeliveryTarget>();
            opts.Schema.For<SigningKeys>();
            opts.Schema.For<ExecutionSnapshot>();
        }).UseLightweightSessions();

        builder.Services.AddSingleton(_ => new GuardedConnector());
        builder.Services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => WebhookSender.CreateHandler(sp.GetRequiredService<GuardedConnector>()))
            // Every attempt is a recorded attempt: no resilience handler may retry behind the audit log's back.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // The factory's own loggers write every callback URL (sealed at rest) at Information, four lines per
            // attempt; the worker logs each attempt once, without it.
            .RemoveAllLoggers();
        builder.Services.AddTransient(sp => new WebhookSender(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookSender.ClientName),
            sp.GetRequiredService<GuardedConnector>(),
            sp.GetRequiredService<TimeProvider>()));

        builder.Services.AddSingleton(dataSource);
        builder.Services.AddSingleton<AttemptResponses>();
        // Opens what it sends (callback, headers, payload, signing secrets) and seals the response snippet it hands over.
        builder.Services.AddCueEncryption(ownsKeys: false);
        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            x.AddCueBrokerHealth();
            x.DisableVendorTelemetry();
            x.AddConsumer<DeliverCueConsumer, DeliverCueConsumerDefinition>();
            x.AddConsumer<NotifyCueFailedConsumer, NotifyCueFailedConsumerDefinition>();
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.UseCueHost(builder.Configuration);
                cfg.ConfigureEndpoints(context);
            });
        });
        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("database", tags: [HealthEndpoints.ReadyTag])
            .AddCueBrokerCheck(HealthStatus.Unhealthy);
        return builder;
    }
}
