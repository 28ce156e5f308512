using Microsoft.Extensions.Diagnostics.HealthChecks;
using Cue.Api.Accounts;
using Cue.Api.Cues;
using Cue.Api.Dashboard;
using Cue.Api.Executions;
using Cue.Api.Hosting.OpenApi;
using Cue.Contracts.Events;
using Cue.Delivery.Sending;
using Cue.Delivery.Targets;
using Cue.Encryption;
using Cue.Hosting;
using Cue.Scheduler.DueIndex;
using JasperFx.Events.Projections;
using Marten;
using Marten.Schema;
using MassTransit;
using Npgsql;

namespace Cue.Api.Hosting;

public static class ApiHosting
{
    /// <summary>The API's default pool (requests and the audit consumers); see <see cref="Settings.PostgresPooled"/>.</summary>
    public const int ApiPoolSize = 30;

    public static WebApplicationBuilder AddCueApi(this WebApplicationBuilder builder)
    {
        var dataSource = Settings.PostgresDataSource(builder.Configuration, ApiPoolSize);
        builder.AddCueTelemetry("cue-api");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = JsonBody.ServerLimitBytes);
        builder.AddCueTransport();
        builder.Services.AddSingleton(dataSource);
        builder.Services.AddCueMarten(dataSource);
        builder.Services.AddSingleton<AttemptResponses>();
        builder.Services.AddOptions<TotalsOptions>().BindConfiguration(TotalsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<TotalsCompactor>();
        // Seals what it stores and opens what it answers; owns the key tables (created with the schema below).
        builder.Services.AddCueEncryption(ownsKeys: true);

        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            x.AddCueBrokerHealth();
            x.DisableVendorTelemetry();
            x.AddConsumer<DeliveryAttemptedConsumer, DeliveryAttemptedConsumerDefinition>();
            x.AddConsumer<DeliveryStartedConsumer, DeliveryStartedConsumerDefinition>();
            x.AddConsumer<OccurrenceMissedConsumer, AuditConsumerDefinition<OccurrenceMissedConsumer>>();
            x.AddConsumer<CatchUpCappedConsumer, AuditConsumerDefinition<CatchUpCappedConsumer>>();
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.UseCueHost(builder.Configuration);
                cfg.ConfigureEndpoints(context);
            });
        });

        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("database", tags: [HealthEndpoints.ReadyTag])
            .AddCueBrokerCheck(HealthStatus.Degraded);
        builder.Services.AddScoped<ApiKeyFilter>();
        builder.Services.AddSingleton<Quotas>();
        builder.AddCueAccounts();
        builder.Services.AddCueOpenApi();
        builder.AddCueDashboard();
        return builder;
    }

    /// <summary>
    /// The event store. The API is its one writer, so every projection runs inline here, in the
    /// append's transaction: the cue and execution views, the delivery worker's views, and the due index.
    /// </summary>
    public static IServiceCollection AddCueMarten(this IServiceCollection services, NpgsqlDataSource dataSource)
    {
        services.AddMarten(opts =>
        {
            opts.ApplyCueDefaults(dataSource);
            StoredEventNames.Register(opts);

            opts.Projections.Snapshot<AccountView>(SnapshotLifecycle.Inline);
            opts.Projections.Add<ApiKeyProjection>(ProjectionLifecycle.Inline);
            opts.Schema.For<RotatedApiKey>();
            opts.Projections.Snapshot<SigningKeys>(SnapshotLifecycle.Inline);
            opts.Projections.Snapshot<CueView>(SnapshotLifecycle.Inline);
            opts.Projections.Snapshot<DeliveryTarget>(SnapshotLifecycle.Inline);
            opts.Projections.Snapshot<ExecutionView>(SnapshotLifecycle.Inline);
            opts.Projections.Snapshot<ExecutionSnapshot>(SnapshotLifecycle.Inline);
            opts.Schema.For<FireIdempotency>();
            opts.Projections.Add(new DueIndexProjection(), ProjectionLifecycle.Inline);
            opts.Storage.ExtendedSchemaObjects.Add(AttemptResponses.Definition());
            foreach (var table in KeyTablesSchema.Definitions())
            {
                opts.Storage.ExtendedSchemaObjects.Add(table);
            }

            // E-mail is unique per mode (on its blind index: the address itself is sealed); cue names per
            // account (the unique index makes the check atomic).
            opts.Schema.For<AccountView>().UniqueIndex(UniqueIndexType.Computed, "ux_account_mode_email", a => a.Mode, a => a.EmailIndex);
            opts.Schema.For<CueView>().UniqueIndex(UniqueIndexType.Computed, "ux_cue_account_name", c => c.AccountId, c => c.Name)
                .Duplicate(c => c.AccountId).Duplicate(c => c.CreatedAt).Duplicate(c => c.Status);
            // Every create counts the account's active and paused cues (the cue limit). Without this the count
            // read every cue the account ever had, completed ones included, and parsed each document's
            // status: 1.9 ms a create at 5,000 cues, the largest cost of the create path.
            opts.Schema.For<CueView>().Index([c => c.AccountId, c => c.Status], i => i.Name = "ix_cue_account_status");
            ExecutionIndexes.Configure(opts);
        })
        .UseLightweightSessions()
        .ApplyAllDatabaseChangesOnStartup();
        return services;
    }

    public static WebApplication MapCueApi(this WebApplication app)
    {
        app.UseCueTransport();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<ErrorEnvelopeMiddleware>();
        app.UseCueDashboardSessions();
        app.UseCueRateLimits();
        app.UseDeclaredBodyLimit();
        app.MapCueOpenApi();
        app.MapCueHealth();
        app.MapStatusEndpoints();

        var v1 = app.MapGroup("/v1");
        var authed = v1.MapGroup("").AddEndpointFilter<ApiKeyFilter>().AddEndpointFilter(BodyRules.RequireJsonBody);
        v1.MapInfoEndpoints();
        v1.MapAccountEndpoints(authed);
        authed.MapCueEndpoints();
        authed.MapFireEndpoints();
        authed.MapExecutionEndpoints();
        authed.MapReservedEndpoints();
        app.MapCueDashboard();
        return app;
    }
}
