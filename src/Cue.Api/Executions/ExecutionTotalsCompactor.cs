using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cue.Api.Executions;

/// <summary>How often the execution totals' deltas are folded, bound to the <c>ExecutionTotals</c> section.</summary>
public sealed class ExecutionTotalsOptions
{
    public const string Section = "ExecutionTotals";

    /// <summary>
    /// Between folds. A reader sums the deltas not folded yet, so this bounds that sum's length (about
    /// one delta row per audit statement in the interval), not the totals' accuracy, which is always exact.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan CompactEvery { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Installs <see cref="ExecutionTotals"/> before the API serves, then folds its deltas on a timer.</summary>
internal sealed partial class ExecutionTotalsCompactor(
    NpgsqlDataSource dataSource, IOptions<ExecutionTotalsOptions> options, TimeProvider time, ILogger<ExecutionTotalsCompactor> logger)
    : BackgroundService
{
    private const int Batch = 50_000;
    private const int MaxFoldsPerTick = 20;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ExecutionTotals.InstallAsync(dataSource, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CompactEvery, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                for (var i = 0; i < MaxFoldsPerTick && await ExecutionTotals.CompactAsync(dataSource, Batch, stoppingToken) > 0; i++)
                {
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // The database may be restarting: the deltas wait, and readers still sum them exactly.
                LogCompactFailed(logger, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Folding execution totals failed: {Reason}")]
    private static partial void LogCompactFailed(ILogger logger, string reason);
}
