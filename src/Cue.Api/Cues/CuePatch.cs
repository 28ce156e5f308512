using System.Text.Json;
using System.Text.Json.Nodes;
using Cue.Api.Accounts;
using Cue.Api.Hosting;
using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Encryption;

namespace Cue.Api.Cues;

/// <summary>
/// Decides a <c>PATCH /v1/cues/{id}</c> (§5.2 Update): merges the request into the stored configuration
/// level by level, validates the result with the create rules, and returns the update to append, or null
/// when nothing changed. Time comes in as an argument.
/// </summary>
public static class CuePatch
{
    private static readonly string[] NestedObjects = ["schedule", "callback", "retry", "delivery", "on_failure", "verification"];
    private static readonly string[] NullableTop = ["description"];

    /// <summary>Decides on the configuration in clear (opened with <paramref name="cipher"/>) and seals the update's parts.</summary>
    public static async Task<CueUpdated?> DecideAsync(JsonElement patch, CueView current, Caller caller, DateTimeOffset now, AccountCipher cipher, CancellationToken cancellationToken)
    {
        var stored = current.Open(cipher);
        var merged = ToRequestShape(stored);
        string? status = null;
        foreach (var member in patch.EnumerateObject())
        {
            switch (member.Name)
            {
                case "status":
                    status = member.Value.ValueKind == JsonValueKind.String ? member.Value.GetString() : null;
                    if (status is not ("active" or "paused"))
                    {
                        throw ApiError.Validation("status", "Must be 'active' or 'paused'.");
                    }

                    break;
                case "transport":
                    if (member.Value.ValueKind != JsonValueKind.String || member.Value.GetString() != "webhook")
                    {
                        throw ApiError.Validation("transport", "The transport of a cue cannot change.");
                    }

                    break;
                case var name when NestedObjects.Contains(name):
                    MergeObject(merged, name, member.Value);
                    break;
                default:
                    if (member.Value.ValueKind == JsonValueKind.Null && !NullableTop.Contains(member.Name) && merged.ContainsKey(member.Name))
                    {
                        throw ApiError.Validation(member.Name, "Must not be null.");
                    }

                    merged[member.Name] = JsonNode.Parse(member.Value.GetRawText());
                    break;
            }
        }

        var newStatus = status ?? current.Status;
        var scheduleChanged = patch.TryGetProperty("schedule", out _);
        var activating = status == "active" && current.Status != "active";
        var rescheduled = status == "paused" && current.Status != "paused" || (newStatus == "active" && (scheduleChanged || activating));

        var mergedUrl = (string?)merged["callback"]?["url"];
        var mergedWebhook = (string?)merged["on_failure"]?["webhook"];
        var checks = new CueDraft.Checks(
            CallbackUrl: mergedUrl != stored.Callback.Url,
            FailureWebhook: mergedWebhook != stored.OnFailure.Webhook,
            FutureAt: rescheduled && newStatus == "active");

        using var document = JsonDocument.Parse(merged.ToJsonString());
        var (config, nextRun) = await CueDraft.ParseConfigAsync(document.RootElement, caller, now, checks, cancellationToken);

        if (SameConfig(config, stored) && newStatus == current.Status && !rescheduled)
        {
            return null;
        }

        var sealedParts = config.Seal(cipher);
        return new CueUpdated(current.Id, current.AccountId, config.Name, sealedParts.Description, config.Schedule, sealedParts.Callback, sealedParts.Payload,
            config.Retry, config.TimeoutSeconds, config.CatchUp, sealedParts.OnFailure, config.VerificationMode, newStatus, rescheduled,
            newStatus == "active" ? nextRun : null, now);
    }

    /// <summary>One level of merge: given members replace stored ones; a changed schedule type clears the other type's field.</summary>
    private static void MergeObject(JsonObject merged, string name, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null && name is "verification")
        {
            merged[name] = new JsonObject { ["mode"] = "none" };
            return;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            // Not an object: the create rules name the error (422 "Must be an object.").
            merged[name] = JsonNode.Parse(value.GetRawText());
            return;
        }

        var target = merged[name] as JsonObject ?? [];
        merged[name] = target;
        if (name == "schedule" && value.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != (string?)target["type"])
        {
            target.Remove("cron");
            target.Remove("at");
        }

        foreach (var member in value.EnumerateObject())
        {
            var nullable = (name, member.Name) is ("on_failure", "webhook") or ("schedule", "cron") or ("schedule", "at");
            if (member.Value.ValueKind == JsonValueKind.Null && !nullable)
            {
                throw ApiError.Validation(name + "." + member.Name, "Must not be null.");
            }

            target[member.Name] = JsonNode.Parse(member.Value.GetRawText());
        }
    }

    // The records hold collections, which compare by reference: compare their serialised forms.
    private static bool SameConfig(CueConfig a, CueConfig b) =>
        JsonSerializer.Serialize(a, Json.Options) == JsonSerializer.Serialize(b, Json.Options);

    /// <summary>The stored cue in the shape of a create request, for merging.</summary>
    private static JsonObject ToRequestShape(CueConfig c) => new()
    {
        ["name"] = c.Name,
        ["description"] = c.Description,
        ["schedule"] = new JsonObject
        {
            ["type"] = c.Schedule.Type,
            ["cron"] = c.Schedule.Cron,
            ["at"] = c.Schedule.At is { } at ? Timestamps.ToWire(at) : null,
            ["timezone"] = c.Schedule.Timezone,
        },
        ["callback"] = new JsonObject
        {
            ["url"] = c.Callback.Url,
            ["method"] = c.Callback.Method,
            ["headers"] = new JsonObject(c.Callback.Headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)JsonValue.Create(h.Value)))),
        },
        ["payload"] = JsonNode.Parse(c.Payload),
        ["retry"] = new JsonObject
        {
            ["max_attempts"] = c.Retry.MaxAttempts,
            ["backoff_minutes"] = new JsonArray([.. c.Retry.BackoffMinutes.Select(m => (JsonNode?)JsonValue.Create(m))]),
        },
        ["delivery"] = new JsonObject { ["timeout_seconds"] = c.TimeoutSeconds },
        ["catch_up"] = c.CatchUp,
        ["on_failure"] = new JsonObject { ["email"] = c.OnFailure.Email, ["webhook"] = c.OnFailure.Webhook, ["pause"] = c.OnFailure.Pause },
        ["verification"] = new JsonObject { ["mode"] = c.VerificationMode },
    };
}
