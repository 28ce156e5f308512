namespace Cue.Contracts.Events;

/// <summary>An account was created. The API key itself is never stored: only its SHA-256 (hex) and display prefix.</summary>
public sealed record AccountRegistered(
    Guid AccountId,
    string Email,
    string Mode,
    string ApiKeyHash,
    string ApiKeyPrefix,
    string WebhookSecret,
    DateTimeOffset RegisteredAt);
