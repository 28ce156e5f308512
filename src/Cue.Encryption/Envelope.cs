using System.Security.Cryptography;

namespace Cue.Encryption;

/// <summary>
/// AES-256-GCM with a fresh random 96-bit nonce per message: <c>nonce ‖ ciphertext ‖ tag</c>. The associated
/// data is authenticated but not stored, so a sealed value opens only where it was sealed for.
/// </summary>
public static class Envelope
{
    public const int KeyBytes = 32;
    public const int NonceBytes = 12;
    public const int TagBytes = 16;

    public static byte[] Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[NonceBytes + plaintext.Length + TagBytes];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceBytes, plaintext.Length), output.AsSpan(NonceBytes + plaintext.Length), associatedData);
        return output;
    }

    /// <summary>The plaintext, or <see cref="CryptographicException"/> when the key, the data or the associated data differ.</summary>
    public static byte[] Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> associatedData)
    {
        if (sealedBytes.Length < NonceBytes + TagBytes)
        {
            throw new CryptographicException("The sealed value is too short.");
        }

        var length = sealedBytes.Length - NonceBytes - TagBytes;
        var plaintext = new byte[length];
        using var aes = new AesGcm(key, TagBytes);
        aes.Decrypt(sealedBytes[..NonceBytes], sealedBytes.Slice(NonceBytes, length), sealedBytes[(NonceBytes + length)..], plaintext, associatedData);
        return plaintext;
    }
}
