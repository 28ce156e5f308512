using System.Globalization;
using Cue.Api.Accounts;
using Cue.Api.Executions;
using Marten;

namespace Cue.Api.Dashboard;

/// <summary>What the chart reads of one execution: no user data, only its times and delivery status.</summary>
public sealed class LagSample
{
    public DateTimeOffset ScheduledFor { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public string Status { get; set; } = "";
}

/// <summary>One hour of the chart: executions by delivery result, and fire lag of those that started.</summary>
public sealed record LagBucket(DateTimeOffset Start, int Success, int Failed, int Missed, int Other, double? MedianLagMs, double? MaxLagMs)
{
    public int Total => Success + Failed + Missed + Other;
}

/// <summary>
/// Fire lag (first attempt start − <c>scheduled_for</c>, the §6.3 firing precision) and delivery results
/// of the account's executions scheduled in the last 24 h, in hourly buckets, drawn server-side as inline
/// SVG (no chart library, no script). Pure geometry over the samples, so it is tested without a browser.
/// </summary>
public sealed record FireLagChart(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<LagBucket> Buckets, int Sampled, bool Truncated)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);
    /// <summary>More than this in a day and the chart shows the latest ones (the summary says so).</summary>
    public const int MaxSamples = 20_000;

    // The drawing: a 760×240 view box, the plot inside these margins.
    public const double Width = 760, Height = 240, Left = 48, Right = 712, Top = 16, Bottom = 196;

    public static async Task<FireLagChart> LoadAsync(IQuerySession session, Caller caller, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var from = now - Window;
        var samples = await session.Query<ExecutionView>()
            .Where(e => e.AccountId == caller.AccountId && e.ScheduledFor >= from && e.ScheduledFor < now)
            .OrderByDescending(e => e.ScheduledFor)
            .Take(MaxSamples + 1)
            .Select(e => new LagSample { ScheduledFor = e.ScheduledFor, StartedAt = e.StartedAt, Status = e.Status })
            .ToListAsync(cancellationToken);
        return Build(samples.Take(MaxSamples), now, samples.Count > MaxSamples);
    }

    public static FireLagChart Build(IEnumerable<LagSample> samples, DateTimeOffset now, bool truncated = false)
    {
        var from = now - Window;
        var groups = new List<LagSample>[24];
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i] = [];
        }

        var count = 0;
        foreach (var sample in samples)
        {
            var index = (int)Math.Floor((sample.ScheduledFor - from).TotalHours);
            if (index is >= 0 and < 24)
            {
                groups[index].Add(sample);
                count++;
            }
        }

        var buckets = groups.Select((group, i) =>
        {
            var lags = group.Where(s => s.StartedAt is not null).Select(s => (s.StartedAt!.Value - s.ScheduledFor).TotalMilliseconds).Order().ToList();
            return new LagBucket(from.AddHours(i),
                group.Count(s => s.Status == "success"),
                group.Count(s => s.Status == "failed"),
                group.Count(s => s.Status == "missed"),
                group.Count(s => s.Status is not ("success" or "failed" or "missed")),
                Median(lags),
                lags.Count == 0 ? null : lags[^1]);
        }).ToList();
        return new FireLagChart(from, now, buckets, count, truncated);
    }

    public int Success => Buckets.Sum(b => b.Success);
    public int Failed => Buckets.Sum(b => b.Failed);
    public int Missed => Buckets.Sum(b => b.Missed);
    public int Other => Buckets.Sum(b => b.Other);
    public double? MaxLagMs => Buckets.Max(b => b.MaxLagMs);

    /// <summary>The count axis' top: a round number at or above the busiest hour.</summary>
    public int CountScale => NiceCeiling(Math.Max(2, Buckets.Max(b => b.Total)));

    /// <summary>The lag axis' top in milliseconds: a round number at or above the largest median.</summary>
    public double LagScale => NiceCeiling(Math.Max(100, Buckets.Max(b => b.MedianLagMs ?? 0)));

    public double SlotWidth => (Right - Left) / Buckets.Count;

    public double X(int index) => Left + index * SlotWidth;

    public double CountY(double count) => Bottom - count / CountScale * (Bottom - Top);

    public double LagY(double milliseconds) => Bottom - Math.Clamp(milliseconds, 0, LagScale) / LagScale * (Bottom - Top);

    /// <summary>The median-lag line as SVG points ("x,y x,y"), one per hour that had a started execution.</summary>
    public string LagPoints() => string.Join(' ', Buckets.Select((b, i) => (b, i)).Where(p => p.b.MedianLagMs is not null)
        .Select(p => F(X(p.i) + SlotWidth / 2) + "," + F(LagY(p.b.MedianLagMs!.Value))));

    public string Summary()
    {
        if (Sampled == 0)
        {
            return "No executions were scheduled in the last 24 hours.";
        }

        var lag = MaxLagMs is { } max ? $" Fire lag: median per hour up to {Times.Duration(Buckets.Max(b => b.MedianLagMs ?? 0))}, largest {Times.Duration(max)}." : "";
        var shown = Truncated ? $" (the latest {MaxSamples:N0} shown)" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Sampled} executions scheduled in the last 24 hours{shown}: {Success} succeeded, {Failed} failed, {Missed} missed, {Other} pending, in flight or cancelled.{lag}");
    }

    public static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static double? Median(List<double> sorted) => sorted.Count switch
    {
        0 => null,
        var n when n % 2 == 1 => sorted[n / 2],
        var n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    };

    private static int NiceCeiling(double value)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return (int)(step * magnitude);
            }
        }

        return (int)(10 * magnitude);
    }
}
