using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cue.Api.Accounts;
using Cue.Api.Hosting;
using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Delivery.Signing;
using Cue.Delivery.Urls;
using Cue.Encryption;
using Cue.Scheduler.Occurrences;

namespace Cue.Api.Cues;

/// <summary>
/// Turns a create request into a <see cref="CueCreated"/> decision, checking every rule of contract §5.2
/// in the table's order. Time comes in as an argument.
/// </summary>
public static partial class CueDraft
{
    public const int MaxPayloadBytes = 1_048_576;
    public static readonly TimeSpan NoOccurrenceHorizon = TimeSpan.FromDays(5 * 366);
    public static readonly TimeSpan DnsBudget = TimeSpan.FromSeconds(2);

    private static readonly string[] Methods = ["POST", "PUT", "PATCH", "GET"];
    private static readonly string[] CatchUps = ["skip_missed", "run_once_if_missed", "replay_all_missed"];
    private static readonly string[] VerificationModes = ["none", "require_external_id", "require_result_url", "require_artifacts", "manual"];
    private static readonly string[] ReservedHeaders = ["host", "content-type", "content-length", "transfer-encoding", "connection", "user-agent"];

    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
    private static partial Regex HeaderName();

    /// <summary>The decision with its sensitive parts sealed by the caller's <paramref name="cipher"/>.</summary>
    public static async Task<CueCreated> ParseAsync(JsonElement body, Caller caller, string cueId, DateTimeOffset now, AccountCipher cipher, CancellationToken cancellationToken)
    {
        var (config, nextRun) = await ParseConfigAsync(body, caller, now, Checks.All, cancellationToken);
        var sealedParts = config.Seal(cipher);
        return new CueCreated(cueId, caller.AccountId, caller.Mode, config.Name, sealedParts.Description, config.Schedule, sealedParts.Callback,
            sealedParts.Payload, config.Retry, config.TimeoutSeconds, config.CatchUp, sealedParts.OnFailure, config.VerificationMode, nextRun, now);
    }

    /// <summary>Which checks a parse runs beyond the syntax: an update skips those of values it did not change.</summary>
    public sealed record Checks(bool CallbackUrl, bool FailureWebhook, bool FutureAt)
    {
        public static readonly Checks All = new(true, true, true);
    }

    /// <summary>
    /// Validates a whole cue configuration in the order of the §5.2 table and normalises it. Used by create
    /// and, on the merged configuration, by update. <c>NextRun</c> is the first occurrence after <paramref name="now"/>.
    /// </summary>
    public static async Task<(CueConfig Config, DateTimeOffset? NextRun)> ParseConfigAsync(JsonElement body, Caller caller, DateTimeOffset now, Checks checks, CancellationToken cancellationToken)
    {
        var fields = new JsonFields(body);

        var name = fields.String("name", required: true, nullable: false)!;
        if (name.Length is < 1 or > 255 || name.Any(char.IsControl))
        {
            throw ApiError.Validation("name", "Must be 1–255 characters with no control characters.");
        }

        var description = fields.String("description");
        if (description is { Length: > 2000 })
        {
            throw ApiError.Validation("description", "Must be at most 2,000 characters.");
        }

        var (schedule, nextRun) = ParseSchedule(fields.Object("schedule", required: true)!, now, checks.FutureAt);

        var transport = fields.String("transport", nullable: false) ?? "webhook";
        if (transport == "worker")
        {
            throw ApiError.BadRequest("unsupported_transport", "The worker transport is not available yet; use 'webhook'.");
        }

        if (transport != "webhook")
        {
            throw ApiError.Validation("transport", "Must be 'webhook' or 'worker'.");
        }

        var callback = await ParseCallbackAsync(fields.Object("callback", required: true)!, caller, checks.CallbackUrl, cancellationToken);
        var payload = ParsePayload(fields.Raw("payload"));
        var retry = ParseRetry(fields.Object("retry"));

        var delivery = fields.Object("delivery");
        var timeout = delivery?.Int("timeout_seconds") ?? 30;
        delivery?.RejectUnknown();
        if (timeout is < 1 or > 300)
        {
            throw ApiError.Validation("delivery.timeout_seconds", "Must be 1–300.");
        }

        var catchUp = fields.String("catch_up", nullable: false) ?? "run_once_if_missed";
        if (!CatchUps.Contains(catchUp))
        {
            throw ApiError.Validation("catch_up", "Must be one of " + string.Join(", ", CatchUps) + ".");
        }

        var onFailure = await ParseOnFailureAsync(fields.Object("on_failure"), caller, checks.FailureWebhook, cancellationToken);

        var verification = fields.Object("verification", nullable: true);
        var verificationMode = verification?.String("mode", nullable: false) ?? "none";
        verification?.RejectUnknown();
        if (!VerificationModes.Contains(verificationMode))
        {
            throw ApiError.Validation("verification.mode", "Must be one of " + string.Join(", ", VerificationModes) + ".");
        }

        fields.RejectUnknown();

        return (new CueConfig(name, description, schedule, callback, payload, retry, timeout, catchUp, onFailure, verificationMode), nextRun);
    }

    private static (CueSchedule Schedule, DateTimeOffset? NextRun) ParseSchedule(JsonFields schedule, DateTimeOffset now, bool requireFutureAt)
    {
        var type = schedule.String("type", required: true, nullable: false)!;
        if (type is not ("once" or "recurring"))
        {
            throw ApiError.Validation("schedule.type", "Must be 'once' or 'recurring'.");
        }

        var cronText = schedule.String("cron");
        var atText = schedule.String("at");
        var zoneText = schedule.String("timezone", nullable: false) ?? "UTC";
        schedule.RejectUnknown();

        if (!TimeZones.TryFind(zoneText, out var zone, out var canonicalZone))
        {
            throw new ApiError(StatusCodes.Status422UnprocessableEntity, "invalid_timezone", $"'{zoneText}' is not an IANA time zone id.");
        }

        if (type == "once")
        {
            if (cronText is not null)
            {
                throw ApiError.BadRequest("invalid_schedule", "A once schedule takes 'at', not 'cron'.");
            }

            if (atText is null)
            {
                throw ApiError.BadRequest("invalid_schedule", "A once schedule needs 'at'.");
            }

            if (!WireTime.TryParse(atText, zone, out var at))
            {
                throw ApiError.Validation("schedule.at", "Must be an RFC 3339 timestamp.");
            }

            if (requireFutureAt && at <= now)
            {
                throw ApiError.BadRequest("invalid_schedule", "'at' must be in the future.");
            }

            return (new CueSchedule("once", null, at, canonicalZone), at);
        }

        if (atText is not null)
        {
            throw ApiError.BadRequest("invalid_schedule", "A recurring schedule takes 'cron', not 'at'.");
        }

        if (cronText is null)
        {
            throw ApiError.BadRequest("invalid_schedule", "A recurring schedule needs 'cron'.");
        }

        if (!CronSchedule.TryParse(cronText, out var cron, out var cronError))
        {
            throw ApiError.BadRequest("invalid_schedule", cronError);
        }

        if (!cron.HasOccurrenceWithin(now, NoOccurrenceHorizon, zone))
        {
            throw ApiError.BadRequest("invalid_schedule", "The cron expression has no occurrence in the next 5 years.");
        }

        return (new CueSchedule("recurring", cron.Expression, null, canonicalZone), cron.NextAfter(now, zone));
    }

    private static async Task<CallbackConfig> ParseCallbackAsync(JsonFields callback, Caller caller, bool checkUrl, CancellationToken cancellationToken)
    {
        var url = callback.String("url", required: true, nullable: false)!;
        var method = (callback.String("method", nullable: false) ?? "POST").ToUpperInvariant();
        var headersField = callback.Object("headers");
        callback.RejectUnknown();

        var normalised = checkUrl ? await CheckUrlAsync(url, caller, "", cancellationToken) : url;

        if (!Methods.Contains(method))
        {
            throw ApiError.Validation("callback.method", "Must be one of POST, PUT, PATCH, GET.");
        }

        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (headersField is not null)
        {
            foreach (var member in headersField.Members())
            {
                var path = "callback.headers." + member.Name;
                if (headers.Count == 20)
                {
                    throw ApiError.Validation("callback.headers", "At most 20 headers.");
                }

                if (!HeaderName().IsMatch(member.Name))
                {
                    throw ApiError.Validation(path, "Header names are HTTP tokens of at most 100 characters.");
                }

                var lower = member.Name.ToLowerInvariant();
                if (ReservedHeaders.Contains(lower) || lower.StartsWith("x-cue-", StringComparison.Ordinal))
                {
                    throw ApiError.Validation(path, "This header is reserved.");
                }

                if (member.Value.ValueKind != JsonValueKind.String)
                {
                    throw ApiError.Validation(path, "Must be a string.");
                }

                var value = member.Value.GetString()!;
                if (value.Length > 1000 || value.IndexOfAny(['\r', '\n', '\0']) >= 0)
                {
                    throw ApiError.Validation(path, "Values are at most 1,000 characters with no CR, LF or NUL.");
                }

                if (headers.Keys.Any(k => k.Equals(member.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    throw ApiError.Validation(path, "Duplicate header name.");
                }

                headers[member.Name] = value;
            }
        }

        return new CallbackConfig(normalised, method, headers);
    }

    private static async Task<string> CheckUrlAsync(string url, Caller caller, string messagePrefix, CancellationToken cancellationToken)
    {
        var rejection = CallbackUrlPolicy.Check(url, caller.IsTest, out var parsed);
        if (rejection is null && parsed is not null)
        {
            rejection = await CallbackUrlPolicy.CheckResolvedAsync(parsed, DnsBudget, cancellationToken);
        }

        if (rejection is not null)
        {
            throw ApiError.BadRequest(rejection.Code, messagePrefix + rejection.Message);
        }

        return parsed!.Uri.AbsoluteUri;
    }

    internal static string ParsePayload(JsonElement? payload)
    {
        if (payload is null)
        {
            return "{}";
        }

        if (payload.Value.ValueKind != JsonValueKind.Object)
        {
            throw ApiError.BadRequest("invalid_payload", "'payload' must be a JSON object.");
        }

        if (!CanonicalJson.TryCanonicalize(Encoding.UTF8.GetBytes(payload.Value.GetRawText()), out var canonical, out var error))
        {
            throw ApiError.BadRequest("invalid_payload", "payload: " + error);
        }

        if (canonical.Length > MaxPayloadBytes)
        {
            throw ApiError.BadRequest("invalid_payload_size", "The payload's canonical form is over 1 MiB.");
        }

        return canonical;
    }

    private static CueRetry ParseRetry(JsonFields? retry)
    {
        if (retry is null)
        {
            return new CueRetry(3, [1, 5, 15]);
        }

        var maxAttempts = retry.Int("max_attempts") ?? 3;
        var backoffRaw = retry.Raw("backoff_minutes");
        retry.RejectUnknown();
        if (maxAttempts is < 1 or > 10)
        {
            throw ApiError.Validation("retry.max_attempts", "Must be 1–10.");
        }

        if (backoffRaw is null)
        {
            return new CueRetry(maxAttempts, [1, 5, 15]);
        }

        if (backoffRaw.Value.ValueKind != JsonValueKind.Array)
        {
            throw ApiError.Validation("retry.backoff_minutes", "Must be an array of integers.");
        }

        var backoff = new List<int>();
        var index = 0;
        foreach (var item in backoffRaw.Value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var minutes) || minutes is < 1 or > 1440)
            {
                throw ApiError.Validation($"retry.backoff_minutes[{index}]", "Must be an integer 1–1,440.");
            }

            backoff.Add(minutes);
            index++;
        }

        if (backoff.Count is < 1 or > 10)
        {
            throw ApiError.Validation("retry.backoff_minutes", "Must have 1–10 items.");
        }

        return new CueRetry(maxAttempts, backoff);
    }

    private static async Task<FailureConfig> ParseOnFailureAsync(JsonFields? onFailure, Caller caller, bool checkWebhook, CancellationToken cancellationToken)
    {
        if (onFailure is null)
        {
            return new FailureConfig(true, null, false);
        }

        var email = onFailure.Bool("email") ?? true;
        var webhook = onFailure.String("webhook");
        var pause = onFailure.Bool("pause") ?? false;
        onFailure.RejectUnknown();
        if (webhook is not null && checkWebhook)
        {
            webhook = await CheckUrlAsync(webhook, caller, "on_failure.webhook: ", cancellationToken);
        }

        return new FailureConfig(email, webhook, pause);
    }
}

/// <summary>
/// A cue's whole configuration in clear, validated and normalised (the fields of the §5.2 table): what decisions
/// and responses work with. Events and views hold its sensitive parts sealed (<see cref="Seal"/>).
/// </summary>
public sealed record CueConfig(
    string Name,
    string? Description,
    CueSchedule Schedule,
    CallbackConfig Callback,
    string Payload,
    CueRetry Retry,
    int TimeoutSeconds,
    string CatchUp,
    FailureConfig OnFailure,
    string VerificationMode)
{
    public SealedCueParts Seal(AccountCipher cipher) => new(
        cipher.Seal(SealedFields.Description, Description),
        new CueCallback(cipher.Seal(SealedFields.CallbackUrl, Callback.Url), Callback.Method, SealedHeaders.Seal(cipher, Callback.Headers)),
        cipher.Seal(SealedFields.Payload, Payload),
        new CueOnFailure(OnFailure.Email, cipher.Seal(SealedFields.FailureWebhook, OnFailure.Webhook), OnFailure.Pause));
}

/// <summary>The callback in clear.</summary>
public sealed record CallbackConfig(string Url, string Method, IReadOnlyDictionary<string, string> Headers);

/// <summary>The <c>on_failure</c> policy in clear.</summary>
public sealed record FailureConfig(bool Email, string? Webhook, bool Pause);

/// <summary>The parts of a <see cref="CueConfig"/> that events and views hold sealed.</summary>
public sealed record SealedCueParts(Sealed? Description, CueCallback Callback, Sealed Payload, CueOnFailure OnFailure);
