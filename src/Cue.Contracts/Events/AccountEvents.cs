namespace Cue.Contracts.Events;

/// <summary>
/// An account was created. The API key itself is never stored: only its SHA-256 (hex) and display prefix.
/// The e-mail and the webhook secret are sealed; <paramref name="EmailIndex"/> is the e-mail's blind index
/// (HMAC-SHA256 of the normalised address), what the per-mode uniqueness of e-mails is checked on.
/// </summary>
public sealed record AccountRegistered(
    Guid AccountId,
    Sealed Email,
    string EmailIndex,
    string Mode,
    string ApiKeyHash,
    string ApiKeyPrefix,
    Sealed WebhookSecret,
    DateTimeOffset RegisteredAt);

/// <summary>
/// The account's API key was replaced. The old key stops working at once; its hash is kept so that, for a
/// while, it can be told apart from a key that never existed (401 <c>key_rotated</c>).
/// </summary>
public sealed record ApiKeyRegenerated(
    Guid AccountId,
    string ApiKeyHash,
    string ApiKeyPrefix,
    string PreviousKeyHash,
    DateTimeOffset RegeneratedAt);

/// <summary>
/// The account's webhook secret was replaced. <paramref name="PreviousSecret"/> (the secret it replaced)
/// keeps signing until <paramref name="PreviousSecretExpiresAt"/>; both are null when it was revoked at once.
/// Any older secret is dropped, so at most two are ever valid.
/// </summary>
public sealed record WebhookSecretRegenerated(
    Guid AccountId,
    Sealed WebhookSecret,
    Sealed? PreviousSecret,
    DateTimeOffset? PreviousSecretExpiresAt,
    DateTimeOffset RegeneratedAt);
