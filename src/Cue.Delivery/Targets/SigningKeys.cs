using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Encryption;

namespace Cue.Delivery.Targets;

/// <summary>
/// An account's webhook secrets: the current one and, during a rotation's grace period, the one it
/// replaced, both sealed. Fetched when signing; never put on the bus. Inline snapshot of the account stream.
/// </summary>
public sealed class SigningKeys
{
    public string Id { get; set; } = "";
    public Sealed Current { get; set; } = null!;
    public Sealed? Previous { get; set; }
    public DateTimeOffset? PreviousExpiresAt { get; set; }

    public static SigningKeys Create(AccountRegistered e) => new()
    {
        Id = e.AccountId.ToString("D"),
        Current = e.WebhookSecret,
    };

    public void Apply(WebhookSecretRegenerated e)
    {
        // The secret being replaced becomes the previous one; an older previous one is dropped.
        Current = e.WebhookSecret;
        Previous = e.PreviousSecret;
        PreviousExpiresAt = e.PreviousSecretExpiresAt;
    }

    /// <summary>When the previous secret stops signing, or null when there is none (or it has expired) at <paramref name="now"/>.</summary>
    public DateTimeOffset? PreviousValidUntil(DateTimeOffset now) =>
        Previous is not null && PreviousExpiresAt is { } expires && now < expires ? expires : null;

    /// <summary>The secrets that sign a delivery made at <paramref name="now"/>, newest first (§9.4).</summary>
    public IReadOnlyList<string> ValidAt(DateTimeOffset now, AccountCipher cipher) =>
        PreviousValidUntil(now) is not null
            ? [cipher.Open(SealedFields.WebhookSecret, Current), cipher.Open(SealedFields.WebhookSecret, Previous!)]
            : [cipher.Open(SealedFields.WebhookSecret, Current)];
}
