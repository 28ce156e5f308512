using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Cue.Contracts;

namespace Cue.Encryption;

/// <summary>
/// Seals and opens one account's values with its data key. The associated data is the account id and the
/// field's name (<see cref="SealedFields"/>), so a value copied to another account or into another field
/// does not open.
/// </summary>
public sealed class AccountCipher
{
    private const string Prefix = "v1:";
    private readonly byte[] key;

    internal AccountCipher(Guid accountId, byte[] key)
    {
        if (key.Length != Envelope.KeyBytes)
        {
            throw new ArgumentException("A data key is 32 bytes.", nameof(key));
        }

        AccountId = accountId;
        this.key = key;
    }

    public Guid AccountId { get; }

    [return: NotNullIfNotNull(nameof(clear))]
    public Sealed? Seal(string field, string? clear) =>
        clear is null ? null : new Sealed(Prefix + Convert.ToBase64String(Envelope.Encrypt(key, Encoding.UTF8.GetBytes(clear), Aad(field))));

    /// <summary>The clear text; <see cref="CryptographicException"/> when the value was not sealed by this account for this field, or was changed.</summary>
    [return: NotNullIfNotNull(nameof(value))]
    public string? Open(string field, Sealed? value)
    {
        if (value is null)
        {
            return null;
        }

        if (!value.Value.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new CryptographicException($"The {field} value is not a sealed value of a known version.");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value.Value[Prefix.Length..]);
        }
        catch (FormatException ex)
        {
            throw new CryptographicException($"The {field} value is damaged.", ex);
        }

        return Encoding.UTF8.GetString(Envelope.Decrypt(key, bytes, Aad(field)));
    }

    private byte[] Aad(string field) => Encoding.UTF8.GetBytes($"cue/v1|{AccountId:D}|{field}");
}

/// <summary>
/// The names sealed values are bound to. A value keeps its name wherever it is copied (a cue's payload becomes
/// an execution's payload snapshot unchanged), so copies need no re-sealing.
/// </summary>
public static class SealedFields
{
    public const string Email = "account.email";
    public const string WebhookSecret = "account.webhook_secret";
    public const string Description = "cue.description";
    public const string CallbackUrl = "cue.callback.url";
    public const string CallbackHeaders = "cue.callback.headers";
    public const string FailureWebhook = "cue.on_failure.webhook";
    public const string Payload = "payload";
    public const string ResponseBody = "attempt.response_body";
    public const string Result = "outcome.result";
    public const string Error = "outcome.error";
    public const string Metadata = "outcome.metadata";
    public const string ExternalId = "outcome.external_id";
    public const string ResultUrl = "outcome.result_url";
    public const string ResultRef = "outcome.result_ref";
    public const string Summary = "outcome.summary";
    public const string Artifacts = "outcome.artifacts";
}

/// <summary>A callback's headers are sealed together, names included, as one JSON object.</summary>
public static class SealedHeaders
{
    public static Sealed Seal(AccountCipher cipher, IReadOnlyDictionary<string, string> headers) =>
        cipher.Seal(SealedFields.CallbackHeaders, System.Text.Json.JsonSerializer.Serialize(headers));

    public static IReadOnlyDictionary<string, string> Open(AccountCipher cipher, Sealed headers) =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(cipher.Open(SealedFields.CallbackHeaders, headers))
        ?? throw new CryptographicException("The sealed callback headers are not a JSON object.");
}
