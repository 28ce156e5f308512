using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cue.Contracts.Webhooks;

/// <summary>Why a delivery was accepted or refused; anything but <see cref="Valid"/> means "answer 4xx, do not act".</summary>
public enum WebhookVerdict
{
    Valid,
    /// <summary><c>X-Cue-Signature</c> absent or blank.</summary>
    MissingSignature,
    /// <summary><c>X-Cue-Timestamp</c> absent or not plain decimal Unix seconds.</summary>
    MalformedTimestamp,
    /// <summary>Signed more than the tolerance before <c>now</c>: a replay, or a very late retry.</summary>
    TooOld,
    /// <summary>Signed more than the tolerance after <c>now</c>: the clocks disagree.</summary>
    TooNew,
    /// <summary>No <c>v1=</c> entry is the signature of this timestamp and body under any of the secrets.</summary>
    NoMatch,
}

/// <summary>
/// Receiver-side check of contract §9.4: <c>X-Cue-Signature</c> holds one or more space-separated
/// <c>v1=&lt;hex HMAC-SHA256&gt;</c> entries over <c>"&lt;X-Cue-Timestamp&gt;.&lt;raw body&gt;"</c>, keyed by the
/// UTF-8 bytes of the whole secret. Dependency-free, so a receiver can copy or reference it alone.
/// </summary>
public static class WebhookVerifier
{
    /// <summary>The contract's replay window.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromSeconds(300);

    private const string Scheme = "v1=";
    private const int MacHexLength = HMACSHA256.HashSizeInBytes * 2;

    // Eleven digits reach the year 5138 and keep FromUnixTimeSeconds in range; no sign, no spaces inside.
    private const int MaxTimestampDigits = 11;

    /// <param name="rawBody">The body exactly as received: verify before parsing, never a re-serialisation.</param>
    /// <param name="secrets">Every secret currently accepted (the current one, and the previous one while rotating).</param>
    /// <param name="now">The receiver's clock, e.g. <c>TimeProvider.System.GetUtcNow()</c>.</param>
    /// <param name="tolerance">Largest accepted |now − timestamp|, inclusive; 300 s when null.</param>
    public static WebhookVerdict Verify(
        string? signatureHeader,
        string? timestampHeader,
        ReadOnlySpan<byte> rawBody,
        IEnumerable<string> secrets,
        DateTimeOffset now,
        TimeSpan? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var window = tolerance ?? DefaultTolerance;
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.Zero, nameof(tolerance));

        if (string.IsNullOrWhiteSpace(signatureHeader))
        {
            return WebhookVerdict.MissingSignature;
        }

        var timestamp = (timestampHeader ?? "").AsSpan().Trim();
        if (timestamp.Length is 0 or > MaxTimestampDigits || timestamp.ContainsAnyExceptInRange('0', '9'))
        {
            return WebhookVerdict.MalformedTimestamp;
        }

        var age = now - DateTimeOffset.FromUnixTimeSeconds(long.Parse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture));
        if (age > window)
        {
            return WebhookVerdict.TooOld;
        }

        if (age < -window)
        {
            return WebhookVerdict.TooNew;
        }

        // The MAC covers the timestamp text as sent, so "0123" and "123" sign differently, as they do for the sender.
        var expected = new List<byte[]>();
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret))
            {
                expected.Add(Mac(secret, timestamp, rawBody));
            }
        }

        Span<byte> presented = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var matched = false;
        var header = signatureHeader.AsSpan();
        foreach (var range in header.SplitAny(' ', '\t'))
        {
            var entry = header[range];
            if (!TryDecode(entry, presented))
            {
                continue; // empty, another scheme (v2=…), or not 64 lowercase hex digits
            }

            foreach (var mac in expected)
            {
                // No early exit: timing does not reveal which entry or which secret matched.
                matched |= CryptographicOperations.FixedTimeEquals(presented, mac);
            }
        }

        return matched ? WebhookVerdict.Valid : WebhookVerdict.NoMatch;
    }

    private static byte[] Mac(string secret, ReadOnlySpan<char> timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        Span<byte> ascii = stackalloc byte[MaxTimestampDigits];
        var length = Encoding.ASCII.GetBytes(timestamp, ascii);
        hmac.AppendData(ascii[..length]);
        hmac.AppendData("."u8);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static bool TryDecode(ReadOnlySpan<char> entry, Span<byte> mac)
    {
        if (!entry.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return false;
        }

        var hex = entry[Scheme.Length..];
        foreach (var c in hex)
        {
            // The contract sends lowercase; refusing uppercase keeps every receiver (and every language) in agreement.
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return hex.Length == MacHexLength
            && Convert.FromHexString(hex, mac, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == mac.Length;
    }
}
