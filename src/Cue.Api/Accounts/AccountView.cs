using Cue.Contracts.Events;
using Marten.Events.Projections;
using Marten;

namespace Cue.Api.Accounts;

/// <summary>An account as the API shows it. Inline snapshot of the account stream.</summary>
public sealed class AccountView
{
    public string Id { get; set; } = "";
    public Guid AccountId { get; set; }
    public string Email { get; set; } = "";
    public string Mode { get; set; } = "live";
    public string ApiKeyPrefix { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public static AccountView Create(AccountRegistered e) => new()
    {
        Id = e.AccountId.ToString("D"),
        AccountId = e.AccountId,
        Email = e.Email,
        Mode = e.Mode,
        ApiKeyPrefix = e.ApiKeyPrefix,
        CreatedAt = e.RegisteredAt,
    };
}

/// <summary>The lookup from an API key's hash to its account. The key itself is never stored.</summary>
public sealed class ApiKeyRecord
{
    public string Id { get; set; } = "";
    public Guid AccountId { get; set; }
    public string Mode { get; set; } = "live";
}

public sealed partial class ApiKeyProjection : EventProjection
{
    public void Project(AccountRegistered e, IDocumentOperations operations) =>
        operations.Store(new ApiKeyRecord { Id = e.ApiKeyHash, AccountId = e.AccountId, Mode = e.Mode });
}
