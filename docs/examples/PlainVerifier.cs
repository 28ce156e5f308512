// A receiver's copy of the check in plain .NET, for code that cannot reference Cue.Contracts
// (which has Cue.Contracts.Webhooks.WebhookVerifier). Compiled and run against the vectors by the tests.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cue.Examples;

public static class PlainVerifier
{
    /// <summary>True when the delivery is fresh (±300 s) and any <c>v1=</c> entry matches any secret.</summary>
    public static bool IsValid(string? signatureHeader, string? timestampHeader, byte[] rawBody, IEnumerable<string> secrets, DateTimeOffset now)
    {
        var timestamp = timestampHeader?.Trim() ?? "";
        if (timestamp.Length is 0 or > 11 || !timestamp.All(char.IsAsciiDigit) || string.IsNullOrWhiteSpace(signatureHeader))
        {
            return false;
        }

        var signedAt = DateTimeOffset.FromUnixTimeSeconds(long.Parse(timestamp, CultureInfo.InvariantCulture));
        if ((now - signedAt).Duration() > TimeSpan.FromSeconds(300))
        {
            return false; // a replay, or clocks far apart
        }

        // message = timestamp text + "." + raw body; key = UTF-8 bytes of the whole secret, "whsec_" included.
        byte[] message = [.. Encoding.ASCII.GetBytes(timestamp), (byte)'.', .. rawBody];
        var expected = secrets.Select(s => HMACSHA256.HashData(Encoding.UTF8.GetBytes(s), message)).ToList();

        var matched = false;
        foreach (var entry in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var hex = entry.StartsWith("v1=", StringComparison.Ordinal) ? entry[3..] : "";
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigitLower))
            {
                continue; // another scheme (v2=…) or not a SHA-256 in lowercase hex
            }

            var presented = Convert.FromHexString(hex);
            foreach (var mac in expected)
            {
                matched |= CryptographicOperations.FixedTimeEquals(presented, mac);
            }
        }

        return matched;
    }
}
