namespace Cue.Delivery.Attempts;

/// <param name="Wait">How long after the failed attempt the next one is due.</param>
/// <param name="RetryAfterSeconds">The <c>Retry-After</c> value taken into account, after capping, in whole
/// seconds (rounded up); null when the response carried none. Recorded as the attempt's <c>retry_after_seconds</c>.</param>
public readonly record struct RetryDelay(TimeSpan Wait, int? RetryAfterSeconds);

/// <summary>Contract §9.5 backoff. Pure: the jitter draw and the time unit are inputs.</summary>
public static class Backoff
{
    /// <summary>Jitter adds up to this fraction of the backoff step.</summary>
    public const double MaxJitterFraction = 0.10;

    /// <param name="failedAttempt">The 1-based number of the attempt that just failed.</param>
    /// <param name="backoffMinutes">The cue's <c>retry.backoff_minutes</c>.</param>
    /// <param name="unit">The length of one "minute": <see cref="TimeSpan.FromMinutes(long)"/> in production, shorter in tests.</param>
    /// <param name="jitter01">A random draw in [0, 1).</param>
    /// <param name="retryAfter">The parsed <c>Retry-After</c> of a 429 or 503, if any.</param>
    public static TimeSpan Delay(int failedAttempt, IReadOnlyList<int> backoffMinutes, TimeSpan unit, double jitter01, TimeSpan? retryAfter = null) =>
        Next(failedAttempt, backoffMinutes, unit, jitter01, retryAfter).Wait;

    /// <summary>
    /// wait = max(step + jitter, min(Retry-After, max(backoff_minutes))), where step =
    /// backoff_minutes[min(n − 1, len − 1)] and jitter = jitter01 × 10 % of step.
    /// </summary>
    public static RetryDelay Next(int failedAttempt, IReadOnlyList<int> backoffMinutes, TimeSpan unit, double jitter01, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempt, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(unit, TimeSpan.Zero);
        if (backoffMinutes.Count == 0)
        {
            throw new ArgumentException("At least one backoff step is required.", nameof(backoffMinutes));
        }

        if (!(jitter01 is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(jitter01), jitter01, "The jitter draw must be in [0, 1).");
        }

        var step = unit * backoffMinutes[Math.Min(failedAttempt - 1, backoffMinutes.Count - 1)];
        var jittered = step + step * (jitter01 * MaxJitterFraction);
        if (retryAfter is not { } requested)
        {
            return new RetryDelay(jittered, null);
        }

        var longest = unit * backoffMinutes.Max();
        var honoured = requested < TimeSpan.Zero ? TimeSpan.Zero : requested > longest ? longest : requested;
        var wait = honoured > jittered ? honoured : jittered;
        return new RetryDelay(wait, (int)Math.Ceiling(honoured.TotalSeconds));
    }
}
