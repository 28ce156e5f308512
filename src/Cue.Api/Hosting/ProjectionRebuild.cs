using System.Diagnostics;
using Cue.Hosting;
using Cue.Scheduler.DueIndex;
using JasperFx.Events.Projections;
using Marten;
using Npgsql;

namespace Cue.Api.Hosting;

/// <summary>
/// <c>Cue.Api projections rebuild</c>: drops every document projection and replays the event log into it
/// with Marten's projection daemon, using the API's own store configuration (the one writer's).
/// <para>
/// The due index is left alone on purpose. It is the scheduler's work queue, not a view: once the
/// dispatch job has sent a fire it advances a recurring row to its next occurrence and deletes a sent
/// retry or manual fire, and none of that is in the event log. Replaying the log into it would put rows
/// back at occurrences and retries that were already delivered, and the scheduler would send them again.
/// </para>
/// </summary>
internal static class ProjectionRebuild
{
    private const string Usage = "usage: Cue.Api projections rebuild";

    /// <summary>How long one projection may take to replay before the command gives up on it.</summary>
    private static readonly TimeSpan ShardTimeout = TimeSpan.FromMinutes(30);

    public static bool IsCommand(string[] args) => args is ["projections", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not ["projections", "rebuild"])
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        try
        {
            return await RebuildAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Npgsql's messages name the host and port, never the password; a missing setting names its key.
            await Console.Error.WriteLineAsync($"projections rebuild failed: {ex.Message}");
            return 1;
        }
    }

    private static async Task<int> RebuildAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        var dataSource = Settings.PostgresDataSource(builder.Configuration, ApiHosting.ApiPoolSize);
        builder.Services.AddCueMarten(dataSource);
        using var host = builder.Build();
        using var stopping = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stopping.Cancel();
        };

        var store = (DocumentStore)host.Services.GetRequiredService<IDocumentStore>();
        // The same schema migration the API applies when it starts, so a rebuild after an upgrade finds its tables.
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        // The maintained totals' triggers too: the rebuild's deletes and inserts then keep them exact.
        await TotalsCompactor.InstallAllAsync(dataSource, stopping.Token);

        var projections = store.Options.Projections.All
            .Where(p => p.Lifecycle != ProjectionLifecycle.Live && p is not DueIndexProjection)
            .Select(p => p.Name)
            .ToList();

        using var daemon = await store.BuildProjectionDaemonAsync();
        var total = Stopwatch.StartNew();
        foreach (var name in projections)
        {
            var one = Stopwatch.StartNew();
            await daemon.RebuildProjectionAsync(name, ShardTimeout, stopping.Token);
            Console.WriteLine($"rebuilt {name} in {one.Elapsed.TotalSeconds:0.0} s");
        }

        Console.WriteLine($"rebuilt {projections.Count} projections in {total.Elapsed.TotalSeconds:0.0} s; " +
                          "the due index was left as it is (it holds the scheduler's progress, which the event log does not)");
        return 0;
    }
}
