using Cue.Contracts.Events;

namespace Cue.Delivery.Targets;

/// <summary>
/// What the delivery worker needs to deliver one cue: its callback, payload and retry policy. A
/// snapshot projection of the cue's stream, written inline by the API and only read here.
/// </summary>
public sealed class DeliveryTarget
{
    public string Id { get; set; } = "";
    /// <summary>The cue stream's version (set by Marten), reported with an attempt that sent this payload.</summary>
    public long Version { get; set; }
    public Guid AccountId { get; set; }
    public string AccountMode { get; set; } = "live";
    public string Name { get; set; } = "";
    public string Url { get; set; } = "";
    public string Method { get; set; } = "POST";
    public Dictionary<string, string> Headers { get; set; } = [];
    public string Payload { get; set; } = "{}";
    public int MaxAttempts { get; set; } = 3;
    public List<int> BackoffMinutes { get; set; } = [1, 5, 15];
    public int TimeoutSeconds { get; set; } = 30;
    public string? OnFailureWebhook { get; set; }

    public static DeliveryTarget Create(CueCreated e) => new()
    {
        Id = e.CueId,
        AccountId = e.AccountId,
        AccountMode = e.AccountMode,
        Name = e.Name,
        Url = e.Callback.Url,
        Method = e.Callback.Method,
        Headers = new Dictionary<string, string>(e.Callback.Headers),
        Payload = e.Payload,
        MaxAttempts = e.Retry.MaxAttempts,
        BackoffMinutes = [.. e.Retry.BackoffMinutes],
        TimeoutSeconds = e.TimeoutSeconds,
        OnFailureWebhook = e.OnFailure.Webhook,
    };

    public void Apply(CueUpdated e)
    {
        Name = e.Name;
        Url = e.Callback.Url;
        Method = e.Callback.Method;
        Headers = new Dictionary<string, string>(e.Callback.Headers);
        Payload = e.Payload;
        MaxAttempts = e.Retry.MaxAttempts;
        BackoffMinutes = [.. e.Retry.BackoffMinutes];
        TimeoutSeconds = e.TimeoutSeconds;
        OnFailureWebhook = e.OnFailure.Webhook;
    }

    /// <summary>A deleted cue delivers nothing more; attempts already in flight finish.</summary>
    public bool ShouldDelete(CueDeleted e) => true;
}
