using Cue.Api.Dashboard;

namespace Cue.Tests.Dashboard;

public sealed class FireLagChartTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 16, 30, 0, TimeSpan.Zero);

    private static LagSample Sample(double hoursAgo, string status, double? lagMs) => new()
    {
        ScheduledFor = Now.AddHours(-hoursAgo),
        StartedAt = lagMs is { } lag ? Now.AddHours(-hoursAgo).AddMilliseconds(lag) : null,
        Status = status,
    };

    [Test]
    public void Buckets_results_and_median_lag_by_hour_of_scheduled_for()
    {
        var chart = FireLagChart.Build(
        [
            Sample(0.5, "success", 100), Sample(0.6, "success", 300), Sample(0.7, "failed", 200),
            Sample(5.2, "missed", null), Sample(5.3, "pending", null),
            Sample(24.5, "success", 50), // older than the window: left out
        ], Now);

        var last = chart.Buckets[^1];
        var sixth = chart.Buckets[18];
        Assert.Multiple(() =>
        {
            Assert.That(chart.Buckets, Has.Count.EqualTo(24));
            Assert.That(chart.Sampled, Is.EqualTo(5));
            Assert.That((last.Success, last.Failed, last.Missed, last.Other), Is.EqualTo((2, 1, 0, 0)));
            Assert.That(last.MedianLagMs, Is.EqualTo(200));
            Assert.That(last.MaxLagMs, Is.EqualTo(300));
            Assert.That((sixth.Missed, sixth.Other, sixth.MedianLagMs), Is.EqualTo((1, 1, (double?)null)));
            Assert.That(chart.CountScale, Is.EqualTo(5));
            Assert.That(chart.Summary(), Does.StartWith("5 executions scheduled in the last 24 hours: 2 succeeded, 1 failed, 1 missed, 1 pending"));
        });
    }

    [Test]
    public void Draws_the_lag_line_only_through_hours_with_a_started_execution()
    {
        var chart = FireLagChart.Build([Sample(0.5, "success", 500), Sample(3.5, "success", 1000)], Now);
        var points = chart.LagPoints().Split(' ');
        Assert.Multiple(() =>
        {
            Assert.That(points, Has.Length.EqualTo(2));
            Assert.That(chart.LagScale, Is.EqualTo(1000));
            // The largest median sits on the top of the plot, a half of it half-way down.
            // Oldest hour first: 3.5 h ago (1 s), then the last hour (0.5 s).
            Assert.That(points[0], Does.EndWith("," + FireLagChart.F(FireLagChart.Top)));
            Assert.That(points[1], Does.EndWith("," + FireLagChart.F(FireLagChart.Bottom - (FireLagChart.Bottom - FireLagChart.Top) / 2)));
        });
    }

    [Test]
    public void An_empty_day_says_so()
    {
        var chart = FireLagChart.Build([], Now);
        Assert.Multiple(() =>
        {
            Assert.That(chart.Summary(), Is.EqualTo("No executions were scheduled in the last 24 hours."));
            Assert.That(chart.LagPoints(), Is.Empty);
        });
    }
}
