using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cue.Delivery.Signing;

/// <summary>The <c>X-Cue-Signature</c> value of contract §9.4.</summary>
public static class WebhookSigner
{
    private const string Scheme = "v1=";

    /// <summary><c>v1=</c> + lowercase hex HMAC-SHA256 over <c>"{unixSeconds}.{body}"</c>, keyed by the whole secret.</summary>
    public static string Signature(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);

        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        Span<byte> timestamp = stackalloc byte[24];
        unixSeconds.TryFormat(timestamp, out var length, default, CultureInfo.InvariantCulture);
        hmac.AppendData(timestamp[..length]);
        hmac.AppendData("."u8);
        hmac.AppendData(body);

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        hmac.GetHashAndReset(mac);
        return Scheme + Convert.ToHexStringLower(mac);
    }

    /// <summary>One entry per secret, newest first, separated by a single space (rotation overlap).</summary>
    public static string Header(IReadOnlyList<string> secrets, long unixSeconds, ReadOnlySpan<byte> body)
    {
        if (secrets.Count == 0)
        {
            throw new ArgumentException("At least one signing secret is required.", nameof(secrets));
        }

        var entries = new string[secrets.Count];
        for (var i = 0; i < secrets.Count; i++)
        {
            entries[i] = Signature(secrets[i], unixSeconds, body);
        }

        return string.Join(' ', entries);
    }

    /// <summary>
    /// True when any space-separated entry of <paramref name="header"/> is the signature of the body under any
    /// of <paramref name="secrets"/>. The timestamp's freshness (±300 s) is the receiver's separate check.
    /// </summary>
    public static bool Verify(string header, IReadOnlyList<string> secrets, long unixSeconds, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(header) || secrets.Count == 0)
        {
            return false;
        }

        var expected = new byte[secrets.Count][];
        for (var i = 0; i < secrets.Count; i++)
        {
            expected[i] = Encoding.ASCII.GetBytes(Signature(secrets[i], unixSeconds, body));
        }

        var matched = false;
        foreach (var entry in header.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var presented = Encoding.UTF8.GetBytes(entry);
            foreach (var signature in expected)
            {
                // No early exit: every comparison runs, so timing does not reveal which entry matched.
                matched |= CryptographicOperations.FixedTimeEquals(presented, signature);
            }
        }

        return matched;
    }
}
