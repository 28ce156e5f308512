using Cue.Contracts.Events;

namespace Cue.Delivery.Targets;

/// <summary>An account's valid webhook secrets, newest first. Fetched when signing; never put on the bus.</summary>
public sealed class SigningKeys
{
    public string Id { get; set; } = "";
    public List<string> Secrets { get; set; } = [];

    public static SigningKeys Create(AccountRegistered e) => new()
    {
        Id = e.AccountId.ToString("D"),
        Secrets = [e.WebhookSecret],
    };
}
