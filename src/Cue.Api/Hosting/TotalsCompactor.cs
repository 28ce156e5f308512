using System.ComponentModel.DataAnnotations;
using Cue.Api.Cues;
using Cue.Api.Executions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cue.Api.Hosting;

/// <summary>How often the maintained totals' deltas are folded, bound to the <c>Totals</c> section.</summary>
public sealed class TotalsOptions
{
    public const string Section = "Totals";

    /// <summary>
    /// Between folds. A reader sums the deltas not folded yet, so this bounds that sum's length (one delta
    /// row per row inserted or deleted in the interval, two per group change), not the totals' accuracy,
    /// which is always exact.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan CompactEvery { get; set; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>Installs every <see cref="GroupTotals"/> before the API serves, then folds their deltas on a timer.</summary>
internal sealed partial class TotalsCompactor(
    NpgsqlDataSource dataSource, IOptions<TotalsOptions> options, TimeProvider time, ILogger<TotalsCompactor> logger)
    : BackgroundService
{
    private const int Batch = 50_000;
    private const int MaxFoldsPerTick = 20;

    /// <summary>Every maintained total of the API.</summary>
    public static readonly IReadOnlyList<GroupTotals> All = [ExecutionTotals.Groups, CueTotals.Groups];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await InstallAllAsync(dataSource, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CompactEvery, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var totals in All)
                {
                    for (var i = 0; i < MaxFoldsPerTick && await totals.CompactAsync(dataSource, Batch, stoppingToken) > 0; i++)
                    {
                    }
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // The database may be restarting: the deltas wait, and readers still sum them exactly.
                LogCompactFailed(logger, ex.Message);
            }
        }
    }

    /// <summary>The tables and triggers of every total (the API's start-up, and a projection rebuild on a fresh database).</summary>
    public static async Task InstallAllAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        foreach (var totals in All)
        {
            await totals.InstallAsync(dataSource, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Folding totals failed: {Reason}")]
    private static partial void LogCompactFailed(ILogger logger, string reason);
}
