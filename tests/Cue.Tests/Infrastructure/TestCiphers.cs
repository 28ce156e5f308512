using System.Security.Cryptography;
using Cue.Encryption;

namespace Cue.Tests.Infrastructure;

/// <summary>Account ciphers with fresh random data keys, for tests of decisions that seal and open.</summary>
public static class TestCiphers
{
    public static AccountCipher For(Guid accountId) => new(accountId, RandomNumberGenerator.GetBytes(Envelope.KeyBytes));

    public static AccountCipher New() => For(Guid.NewGuid());
}
