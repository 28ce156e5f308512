using System.Globalization;

namespace Cue.Bench;

/// <summary>
/// N once cues due in the same second, all created (untimed) before it on an account of their own, each with
/// <c>retry.max_attempts</c> 1. Timed from the due second until the last one reached the receiver, and until
/// the audit log showed all of them: <c>GET /v1/executions?status=success&amp;limit=1</c> on that account, whose
/// <c>total</c> counts the recorded successes in one request (polled every 250 ms).
/// </summary>
internal static class Burst
{
    private const int Concurrency = 64;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public static async Task<BurstResult> RunAsync(ApiClient api, Receiver receiver, int count, double createsPerSecond, TimeSpan timeout, int round)
    {
        var account = await api.RegisterAsync();
        // Due after the creations finish: at the rate the API just measured, slowed down by a half for safety, plus 5 s.
        var estimate = TimeSpan.FromSeconds(count / Math.Max(50, createsPerSecond * 0.5)) + TimeSpan.FromSeconds(5);
        var now = TimeProvider.System.GetUtcNow();
        var due = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero) + estimate + TimeSpan.FromSeconds(1);
        var at = due.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
        var path = $"/burst/{round}-{Guid.NewGuid():N}";
        var callback = new Uri(receiver.Url, path);
        var failures = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var (status, _) = await api.CreateOnceAsync(account.ApiKey, $"burst-{i}", at, callback);
                if (status != 201)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        var createdBeforeDue = (due - TimeProvider.System.GetUtcNow()).TotalSeconds;
        Console.Error.WriteLine(FormattableString.Invariant($"cue bench: burst created, due in {createdBeforeDue:0.0} s"));
        var expected = count - failures;

        DateTimeOffset? recorded = null;
        var deadline = due + timeout;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            if (TimeProvider.System.GetUtcNow() >= due && recorded is null)
            {
                var asked = TimeProvider.System.GetUtcNow();
                var (status, json) = await api.GetAsync(account.ApiKey, "/v1/executions?status=success&limit=1");
                if (status == 200 && json.GetProperty("total").GetInt32() >= expected)
                {
                    recorded = asked;
                }
            }

            if (recorded is not null && Distinct(receiver, path) >= expected)
            {
                break;
            }

            await Task.Delay(Poll);
        }

        var arrivals = receiver.BurstArrivals.Where(a => a.Path == path).ToList();
        var firsts = arrivals.GroupBy(a => a.ExecutionId).Select(g => g.Min(a => a.At)).ToList();
        var lastDelivered = firsts.Count > 0 ? (firsts.Max() - due).TotalSeconds : double.NaN;
        var firstDelivered = firsts.Count > 0 ? (firsts.Min() - due).TotalSeconds : double.NaN;
        return new BurstResult(
            Expected: count,
            Delivered: firsts.Count,
            Duplicates: arrivals.Count - firsts.Count,
            CreateFailures: failures,
            CreatedSecondsBeforeDue: createdBeforeDue,
            FirstDeliveredSeconds: firstDelivered,
            LastDeliveredSeconds: firsts.Count == expected ? lastDelivered : double.NaN,
            RecordedSeconds: recorded is { } r ? Math.Max(0, (r - due).TotalSeconds) : double.NaN,
            FiresPerSecond: firsts.Count == expected && lastDelivered > 0 ? firsts.Count / lastDelivered : double.NaN);
    }

    private static int Distinct(Receiver receiver, string path) =>
        receiver.BurstArrivals.Where(a => a.Path == path).Select(a => a.ExecutionId).Distinct(StringComparer.Ordinal).Count();
}

internal sealed record BurstResult(
    int Expected, int Delivered, int Duplicates, int CreateFailures, double CreatedSecondsBeforeDue,
    double FirstDeliveredSeconds, double LastDeliveredSeconds, double RecordedSeconds, double FiresPerSecond);
