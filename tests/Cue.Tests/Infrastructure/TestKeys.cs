using Cue.Encryption;

namespace Cue.Tests.Infrastructure;

/// <summary>The master key every service process of this test run gets (<c>Encryption__MasterKey</c>), generated per run.</summary>
public static class TestKeys
{
    public const string MasterKeyVariable = "Encryption__MasterKey";

    public static string MasterKey { get; } = Cue.Encryption.MasterKey.NewBase64();
}
