using System.Security.Cryptography;
using System.Text;

namespace Cue.Api.Accounts;

/// <summary>API keys, webhook secrets and ids, drawn from a CSPRNG (contract §2).</summary>
public static class Secrets
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string LowerAlphanumeric = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static readonly System.Buffers.SearchValues<char> Base62Chars = System.Buffers.SearchValues.Create(Base62);

    /// <summary><c>cue_live_</c> or <c>cue_test_</c> and 32 base62 characters (unbiased: <see cref="RandomNumberGenerator.GetInt32(int)"/> rejects).</summary>
    public static string NewApiKey(string mode) => $"cue_{mode}_" + RandomString(Base62, 32);

    public static string NewWebhookSecret() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string NewCueId() => "cue_" + RandomString(LowerAlphanumeric, 12);

    /// <summary>The only form of an API key that is stored: lowercase hex SHA-256.</summary>
    public static string HashApiKey(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string KeyPrefix(string key) => key[..13];

    public static bool LooksLikeApiKey(string key) =>
        key.Length == 41
        && (key.StartsWith("cue_live_", StringComparison.Ordinal) || key.StartsWith("cue_test_", StringComparison.Ordinal))
        && key.AsSpan(9).IndexOfAnyExcept(Base62Chars) < 0;

    private static string RandomString(string alphabet, int length) =>
        string.Create(length, alphabet, static (span, chars) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = chars[RandomNumberGenerator.GetInt32(chars.Length)];
            }
        });
}
