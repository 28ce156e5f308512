using Microsoft.Extensions.Options;

namespace Cue.Encryption;

/// <summary>
/// The <c>Encryption</c> section. <see cref="MasterKey"/> is required: the base64 of 32 random bytes (<c>./cue up</c>
/// writes one to <c>.cue/master.key</c>; compose reads it from a secret file). There is no default key in code.
/// During a master key rotation a service may also be given the key being replaced as <see cref="PreviousMasterKey"/>.
/// </summary>
public sealed class EncryptionOptions
{
    public const string Section = "Encryption";
    public const string MasterKeySetting = "Encryption:MasterKey";
    public const string PreviousMasterKeySetting = "Encryption:PreviousMasterKey";

    public string? MasterKey { get; set; }

    public string? PreviousMasterKey { get; set; }

    /// <summary>The keys a wrapped key may be under, current first. Call on validated options.</summary>
    public IReadOnlyList<Encryption.MasterKey> Keys()
    {
        var current = Encryption.MasterKey.Parse(MasterKey) ?? throw new InvalidOperationException(Invalid(MasterKeySetting));
        if (string.IsNullOrWhiteSpace(PreviousMasterKey))
        {
            return [current];
        }

        var previous = Encryption.MasterKey.Parse(PreviousMasterKey) ?? throw new InvalidOperationException(Invalid(PreviousMasterKeySetting));
        return previous.Id == current.Id ? [current] : [current, previous];
    }

    internal static string Invalid(string setting) =>
        $"Setting '{setting}' (environment variable '{setting.Replace(":", "__", StringComparison.Ordinal)}') must be the base64 of exactly 32 random bytes " +
        "(e.g. the output of 'head -c 32 /dev/urandom | base64').";
}

/// <summary>Fails start-up, naming the setting, when the master key is missing, short or not base64.</summary>
public sealed class EncryptionOptionsValidator : IValidateOptions<EncryptionOptions>
{
    public ValidateOptionsResult Validate(string? name, EncryptionOptions options)
    {
        var failures = new List<string>();
        if (Encryption.MasterKey.Parse(options.MasterKey) is null)
        {
            failures.Add(string.IsNullOrWhiteSpace(options.MasterKey)
                ? $"Missing setting '{EncryptionOptions.MasterKeySetting}' (environment variable 'Encryption__MasterKey'): the master key that wraps the data keys. " +
                  EncryptionOptions.Invalid(EncryptionOptions.MasterKeySetting)
                : EncryptionOptions.Invalid(EncryptionOptions.MasterKeySetting));
        }

        if (!string.IsNullOrWhiteSpace(options.PreviousMasterKey) && Encryption.MasterKey.Parse(options.PreviousMasterKey) is null)
        {
            failures.Add(EncryptionOptions.Invalid(EncryptionOptions.PreviousMasterKeySetting));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
