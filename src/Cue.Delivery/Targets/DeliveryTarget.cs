using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Encryption;

namespace Cue.Delivery.Targets;

/// <summary>
/// What the delivery worker needs to deliver one cue: its callback, payload and retry policy. A
/// snapshot projection of the cue's stream, written inline by the API and only read here. The callback,
/// headers, payload and failure webhook are copied sealed, as the events hold them, and opened for an attempt.
/// </summary>
public sealed class DeliveryTarget
{
    public string Id { get; set; } = "";
    /// <summary>The cue stream's version (set by Marten), reported with an attempt that sent this payload.</summary>
    public long Version { get; set; }
    public Guid AccountId { get; set; }
    public string AccountMode { get; set; } = "live";
    public string Name { get; set; } = "";
    public Sealed Url { get; set; } = null!;
    public string Method { get; set; } = "POST";
    public Sealed Headers { get; set; } = null!;
    public Sealed Payload { get; set; } = null!;
    public int MaxAttempts { get; set; } = 3;
    public List<int> BackoffMinutes { get; set; } = [1, 5, 15];
    public int TimeoutSeconds { get; set; } = 30;
    public Sealed? OnFailureWebhook { get; set; }

    public static DeliveryTarget Create(CueCreated e) => new()
    {
        Id = e.CueId,
        AccountId = e.AccountId,
        AccountMode = e.AccountMode,
        Name = e.Name,
        Url = e.Callback.Url,
        Method = e.Callback.Method,
        Headers = e.Callback.Headers,
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
        Headers = e.Callback.Headers;
        Payload = e.Payload;
        MaxAttempts = e.Retry.MaxAttempts;
        BackoffMinutes = [.. e.Retry.BackoffMinutes];
        TimeoutSeconds = e.TimeoutSeconds;
        OnFailureWebhook = e.OnFailure.Webhook;
    }

    /// <summary>The callback opened for one attempt (held in memory only while it is sent).</summary>
    public OpenCallback OpenCallback(AccountCipher cipher) =>
        new(cipher.Open(SealedFields.CallbackUrl, Url), Method, SealedHeaders.Open(cipher, Headers), TimeSpan.FromSeconds(TimeoutSeconds), AccountMode == "test");

    /// <summary>A deleted cue delivers nothing more; attempts already in flight finish.</summary>
    public bool ShouldDelete(CueDeleted e) => true;
}

/// <summary>Where and how one attempt is sent, in clear: built from a <see cref="DeliveryTarget"/> just before the POST.</summary>
public sealed record OpenCallback(string Url, string Method, IReadOnlyDictionary<string, string> Headers, TimeSpan Timeout, bool AllowLoopback);
