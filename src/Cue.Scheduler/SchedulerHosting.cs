using Microsoft.Extensions.Diagnostics.HealthChecks;
using Cue.Hosting;
using Cue.Scheduler.Dispatch;
using Cue.Scheduler.DueIndex;
using Cue.Scheduler.Health;
using MassTransit;
using Npgsql;
using Quartz;

namespace Cue.Scheduler;

internal static class SchedulerHosting
{
    public static WebApplicationBuilder AddCueScheduler(this WebApplicationBuilder builder)
    {
        // The dispatch job runs one batch statement at a time; Quartz keeps a small pool of its own (its
        // ADO store opens connections from the connection string it is given).
        var dataSource = Settings.PostgresDataSource(builder.Configuration, defaultMaxPoolSize: 8);
        var quartzPostgres = Settings.PostgresPooled(builder.Configuration, defaultMaxPoolSize: 6);
        builder.AddCueTelemetry("cue-scheduler");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(dataSource);
        builder.Services.AddOptions<DispatchOptions>().BindConfiguration(DispatchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<DueIndexStore>();
        builder.Services.AddSingleton<SchedulerHeartbeat>();
        builder.Services.AddSingleton<Dispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        builder.Services.AddHostedService<QueueDepthGauge>();

        builder.Services.AddMassTransit(x =>
        {
            x.AddCueBrokerHealth();
            x.DisableVendorTelemetry();
            x.UsingRabbitMq((_, cfg) => cfg.UseCueHost(builder.Configuration));
        });

        var tick = builder.Configuration.GetSection(DispatchOptions.Section).Get<DispatchOptions>()?.TickInterval
            ?? new DispatchOptions().TickInterval;
        builder.Services.AddQuartz(q =>
        {
            // Clustering gives each node a generated instance id; the name is what the nodes share.
            q.ConfigureScheduler(s => s.InstanceName = "cue-scheduler");
            q.UsePersistentStore(store =>
            {
                store.UsePostgres(quartzPostgres);
                store.UseSystemTextJsonSerializer();
                // Clustered: several schedulers share the store and the job runs on one of them at a time.
                store.UseClustering(c => c.CheckinInterval = TimeSpan.FromSeconds(5));
                store.ProvisionSchema();
            });
            q.AddJob<DispatchJob>(j => j.WithIdentity(DispatchJob.Key).StoreDurably().DisallowConcurrentExecution());
            q.AddTrigger(t => t
                .ForJob(DispatchJob.Key)
                .WithIdentity("dispatch-tick", "cue")
                .StartNow()
                .WithSimpleSchedule(s => s.WithInterval(tick).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);

        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("database", tags: [HealthEndpoints.ReadyTag])
            .AddCueBrokerCheck(HealthStatus.Unhealthy)
            .AddCheck<QuartzHealthCheck>("quartz", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<DispatchLagHealthCheck>("dispatch_lag", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }
}
