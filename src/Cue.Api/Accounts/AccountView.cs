using Cue.Contracts;
using Cue.Contracts.Events;
using Marten.Events.Projections;
using Marten;

namespace Cue.Api.Accounts;

/// <summary>
/// An account as the API shows it. Inline snapshot of the account stream. The e-mail is sealed; its blind
/// index carries the per-mode uniqueness.
/// </summary>
public sealed class AccountView
{
    public string Id { get; set; } = "";
    public Guid AccountId { get; set; }
    public Sealed Email { get; set; } = null!;
    public string EmailIndex { get; set; } = "";
    public string Mode { get; set; } = "live";
    public string ApiKeyHash { get; set; } = "";
    public string ApiKeyPrefix { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public static AccountView Create(AccountRegistered e) => new()
    {
        Id = e.AccountId.ToString("D"),
        AccountId = e.AccountId,
        Email = e.Email,
        EmailIndex = e.EmailIndex,
        Mode = e.Mode,
        ApiKeyHash = e.ApiKeyHash,
        ApiKeyPrefix = e.ApiKeyPrefix,
        CreatedAt = e.RegisteredAt,
    };

    public void Apply(ApiKeyRegenerated e)
    {
        ApiKeyHash = e.ApiKeyHash;
        ApiKeyPrefix = e.ApiKeyPrefix;
    }
}

/// <summary>The lookup from an API key's hash to its account. The key itself is never stored.</summary>
public sealed class ApiKeyRecord
{
    public string Id { get; set; } = "";
    public Guid AccountId { get; set; }
    public string Mode { get; set; } = "live";
}

/// <summary>
/// A key that was replaced, by hash. It never authenticates: it only lets the API answer
/// <c>key_rotated</c> instead of <c>invalid_api_key</c> for a while (§2). A separate document type, so
/// no lookup of live keys can ever match it.
/// </summary>
public sealed class RotatedApiKey
{
    /// <summary>How long a replaced key is still recognised as such.</summary>
    public static readonly TimeSpan RecognisedFor = TimeSpan.FromHours(24);

    public string Id { get; set; } = "";
    public Guid AccountId { get; set; }
    public DateTimeOffset RotatedAt { get; set; }

    public bool IsRecognisedAt(DateTimeOffset now) => now - RotatedAt < RecognisedFor;
}

public sealed partial class ApiKeyProjection : EventProjection
{
    public void Project(AccountRegistered e, IDocumentOperations operations) =>
        operations.Store(new ApiKeyRecord { Id = e.ApiKeyHash, AccountId = e.AccountId, Mode = e.Mode });

    public void Project(ApiKeyRegenerated data, IDocumentOperations operations)
    {
        operations.Delete<ApiKeyRecord>(data.PreviousKeyHash);
        operations.Store(new RotatedApiKey { Id = data.PreviousKeyHash, AccountId = data.AccountId, RotatedAt = data.RegeneratedAt });
        // The mode never changes with a new key; it is the account's.
        operations.Store(new ApiKeyRecord { Id = data.ApiKeyHash, AccountId = data.AccountId, Mode = ModeOf(data.ApiKeyPrefix) });
    }

    /// <summary>The prefix is <c>cue_live_…</c> or <c>cue_test_…</c>.</summary>
    private static string ModeOf(string prefix) => prefix.StartsWith("cue_test_", StringComparison.Ordinal) ? "test" : "live";
}
