using System.Globalization;

namespace Cue.Delivery.Attempts;

public enum AttemptResult
{
    Success,
    RetryableFailure,
    /// <summary>The destination was refused at connect time (§8.4): permanent, never retried.</summary>
    Blocked,
    /// <summary>The worker stopped mid-attempt; the attempt's outcome is unknown.</summary>
    Interrupted,
}

/// <summary>Contract §9.5: how an HTTP response counts, and what a <c>Retry-After</c> header asks for.</summary>
public static class AttemptClassifier
{
    private static readonly string[] HttpDateFormats =
    [
        "r", // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        "dddd, dd'-'MMM'-'yy HH':'mm':'ss 'GMT'", // obsolete RFC 850
        "ddd MMM d HH':'mm':'ss yyyy", // obsolete asctime (day padded with a space)
    ];

    /// <summary>Any 2xx is a success; every other status, redirects included, is a retryable failure.</summary>
    public static AttemptResult ForStatus(int httpStatus) =>
        httpStatus is >= 200 and <= 299 ? AttemptResult.Success : AttemptResult.RetryableFailure;

    /// <summary><c>Retry-After</c> is honoured only on these statuses.</summary>
    public static bool HonoursRetryAfter(int httpStatus) => httpStatus is 429 or 503;

    /// <summary>
    /// The wait a <c>Retry-After</c> value asks for: delta-seconds or an HTTP-date relative to <paramref name="now"/>.
    /// Null when absent, unparsable or in the past.
    /// </summary>
    public static TimeSpan? ParseRetryAfter(string? headerValue, DateTimeOffset now)
    {
        var value = headerValue.AsSpan().Trim();
        if (value.IsEmpty)
        {
            return null;
        }

        if (!value.ContainsAnyExceptInRange('0', '9'))
        {
            // A huge delta is still a valid request to wait long; Backoff caps it anyway.
            return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= int.MaxValue
                ? TimeSpan.FromSeconds(seconds)
                : TimeSpan.FromSeconds(int.MaxValue);
        }

        if (DateTimeOffset.TryParseExact(
                value,
                HttpDateFormats,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AllowInnerWhite | DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var date))
        {
            var wait = date - now;
            return wait >= TimeSpan.Zero ? wait : null;
        }

        return null;
    }
}
