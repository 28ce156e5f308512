using System.Security.Cryptography;
using System.Text;

namespace Cue.Encryption;

/// <summary>
/// The master key from configuration: 32 bytes that only ever wrap other keys (the per-account data keys and
/// the e-mail lookup key), never data. <see cref="Id"/> names it in the key tables without revealing it, so a
/// service can tell which master key a wrapped key needs and say so when it does not have it.
/// </summary>
public sealed class MasterKey
{
    private readonly byte[] key;

    private MasterKey(byte[] key)
    {
        this.key = key;
        Id = Convert.ToHexStringLower(SHA256.HashData([.. Encoding.ASCII.GetBytes("cue master key id v1:"), .. key]))[..16];
    }

    /// <summary>A fingerprint of the key (16 hex digits of a domain-separated SHA-256): safe to store and print.</summary>
    public string Id { get; }

    /// <summary>The base64 of 32 bytes, as <c>Encryption:MasterKey</c> holds it; null when it is anything else.</summary>
    public static MasterKey? Parse(string? base64)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }

        var bytes = new byte[Envelope.KeyBytes + 3];
        return Convert.TryFromBase64String(base64.Trim(), bytes, out var written) && written == Envelope.KeyBytes
            ? new MasterKey(bytes[..Envelope.KeyBytes])
            : null;
    }

    /// <summary>A new random master key in its configuration form (what <c>./cue</c> writes to <c>.cue/master.key</c>).</summary>
    public static string NewBase64() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(Envelope.KeyBytes));

    /// <summary>Encrypts a key under this master key, bound to <paramref name="context"/> (whose key it is).</summary>
    public byte[] Wrap(ReadOnlySpan<byte> dataKey, string context) => Envelope.Encrypt(key, dataKey, Aad(context));

    /// <summary>The key <see cref="Wrap"/> wrapped for the same context; throws <see cref="CryptographicException"/> otherwise.</summary>
    public byte[] Unwrap(ReadOnlySpan<byte> wrapped, string context) => Envelope.Decrypt(key, wrapped, Aad(context));

    private static byte[] Aad(string context) => Encoding.UTF8.GetBytes("cue/v1/wrap|" + context);
}
