using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Cue.Api.Hosting.OpenApi;

/// <summary>
/// The component schemas of the OpenAPI document, written from the contract (§3, §5.1–5.4, §7.1) rather
/// than reflected from handler types: the handlers answer with anonymous objects, and the contract is the
/// thing clients code against. Every documented field is required (§1: always present); only the
/// contract's "|null" fields admit null. A test compares these against real responses so they cannot drift.
/// </summary>
internal static class ContractSchemas
{
    /// <summary>Every named schema, built against <paramref name="document"/> so references resolve in it.</summary>
    public static Dictionary<string, IOpenApiSchema> All(OpenApiDocument document)
    {
        IOpenApiSchema Ref(string name) => new OpenApiSchemaReference(name, document);

        var errorBody = Except(Obj(
            ("code", Str("A stable snake_case code from the contract's table (§3).")),
            ("message", Str("For humans; never a stack trace or an internal address.")),
            ("status", Int("Repeats the HTTP status.")),
            ("details", Arr(Obj(("field", Str("Dotted path, e.g. `retry.backoff_minutes[2]`.")), ("message", Str())), "Only on 422 `validation_error`."))),
            "details");

        var outcome = Obj(
            ("success", Bool()),
            ("result", StrN()),
            ("error", StrN()),
            ("metadata", Nullable(FreeObject("Outcome metadata (≤ 10,240 bytes canonical)."))),
            ("recorded_at", Time()),
            ("external_id", StrN()),
            ("result_url", StrN()),
            ("result_ref", StrN()),
            ("result_type", StrN()),
            ("summary", StrN()),
            ("artifacts", Nullable(Arr(new OpenApiSchema()))),
            ("validation_state", Nullable(Enum("valid", "invalid"))));

        var execution = ExecutionProperties(Ref);
        var cue = CueProperties();

        var schemas = new Dictionary<string, IOpenApiSchema>
        {
            ["Error"] = Obj(("error", errorBody)),
            ["ErrorBody"] = errorBody,
            ["Cue"] = Obj([.. cue]),
            ["CueDetail"] = Obj([.. cue,
                ("executions", Arr(Ref("Execution"), "Newest first.")),
                ("execution_total", Int()),
                ("execution_limit", Int()),
                ("execution_offset", Int())]),
            ["CueList"] = List("cues", Ref("Cue")),
            ["Outcome"] = outcome,
            ["Execution"] = Obj([.. execution]),
            ["FiredExecution"] = Obj([.. execution, ("execution_id", Str("Equals `id`; the CLI reads this name."))]),
            ["ExecutionList"] = List("executions", Ref("Execution")),
            ["Attempt"] = Obj(
                ("attempt", Int("1-based.")),
                ("started_at", Time()),
                ("finished_at", TimeN()),
                ("duration_ms", IntN()),
                ("result", Enum("success", "retryable_failure", "blocked", "interrupted")),
                ("http_status", IntN()),
                ("error_message", StrN()),
                ("response_body", StrN("The first 2,048 bytes of the response body.")),
                ("remote_address", StrN("The IP actually connected to; null when blocked.")),
                ("retry_after_seconds", IntN())),
            ["AttemptList"] = Obj(("attempts", Arr(Ref("Attempt"), "Oldest first."))),
            ["Registration"] = Obj(
                ("api_key", Str("Shown exactly once.")),
                ("email", Str()),
                ("mode", Enum("live", "test")),
                ("webhook_secret", Str()),
                ("created_at", Time())),
            ["Me"] = Obj(
                ("email", Str()),
                ("mode", Enum("live", "test")),
                ("plan", Str("Always `self_hosted`.")),
                ("active_cues", Int()),
                ("active_cue_limit", Int()),
                ("executions_this_month", Int()),
                ("monthly_execution_limit", Int()),
                ("rate_limit_per_minute", Int()),
                ("has_webhook_secret", Bool()),
                ("api_key_prefix", Str("The first 13 characters of the key.")),
                ("created_at", Time())),
            ["KeyRegenerated"] = Obj(("api_key", Str("Shown exactly once.")), ("mode", Enum("live", "test")), ("previous_key_revoked", Bool())),
            ["WebhookSecret"] = Obj(("webhook_secret", Str()), ("previous_secret_expires_at", TimeN())),
            ["WebhookSecretRegenerated"] = Obj(("webhook_secret", Str()), ("previous_secret_revoked", Bool()), ("previous_secret_expires_at", TimeN())),
            ["BulkDeleteResult"] = Obj(("deleted", Arr(Str())), ("skipped", Arr(Str("Ids not found.")))),
            ["OutcomeRecorded"] = Obj(("execution_id", Str()), ("outcome_recorded", Bool()), ("outcome_state", Str())),
            ["VerifyResult"] = Obj(("execution_id", Str()), ("outcome_state", Str()), ("valid", Bool()), ("reason", StrN())),
            ["VerificationPendingResult"] = Obj(("execution_id", Str()), ("outcome_state", Str())),
            ["EvidenceUpdated"] = Obj(("execution_id", Str()), ("outcome_state", Str()), ("evidence_updated", Bool())),
            ["Usage"] = Obj(
                ("plan", Str()),
                ("billing_period", Obj(("start", Time()), ("end", Time()), ("days_remaining", Int()))),
                ("cues", Obj(("active", Int()), ("used", Int("Active + paused.")), ("limit", Int()), ("remaining", Int()), ("percent_used", Num()))),
                ("executions", Obj(("used", Int()), ("limit", Int()), ("remaining", Int()), ("percent_used", Num()))),
                ("outcomes", Obj(("reported", Int()), ("succeeded", Int()), ("failed", Int()))),
                ("rate_limit", Obj(("limit", Int()), ("requests_per_minute", Int()), ("remaining", Int())))),
            ["Info"] = Obj(
                ("name", Str("Always `cue`.")),
                ("version", Str()),
                ("api_version", Str("Always `v1`.")),
                ("compatible_with", Str("Always `cueapi-v1`.")),
                ("authorization_backend", Str("Always `api_key`.")),
                ("disabled_primitives", Arr(Str())),
                ("limits", Obj(("max_request_bytes", Int()), ("max_payload_bytes", Int()), ("max_callback_url_length", Int())))),
            ["Health"] = Obj(
                ("status", Enum("healthy", "degraded")),
                ("version", Str()),
                ("timestamp", Time()),
                ("checks", Obj(("database", Enum("ok", "down", "stale")), ("broker", Enum("ok", "down", "stale")), ("scheduler", Enum("ok", "down", "stale"))))),
            ["Status"] = Except(Obj(("status", Enum("healthy", "degraded")), ("reason", Str("Only when degraded."))), "reason"),
            ["StatusDown"] = Obj(("status", Enum("down")), ("reason", Str()), ("error", Ref("ErrorBody"))),

            // Request bodies. Unknown members are refused with 422, hence additionalProperties false.
            ["RegisterRequest"] = Strict(Obj(("email", Str("≤ 254 characters.")), ("mode", Enum("live", "test"))), "email"),
            ["CueCreateRequest"] = Strict(CueInput(update: false), "name", "schedule", "callback"),
            ["CueUpdateRequest"] = Strict(CueInput(update: true)),
            ["FireRequest"] = Strict(Obj(
                ("send_at", Time("Becomes `scheduled_for`; past or absent means now.")),
                ("payload_override", FreeObject()),
                ("merge_strategy", Enum("merge", "replace")),
                ("idempotency_key", Str("≤ 255 characters; the same key within 24 h returns the original execution.")))),
            ["BulkDeleteRequest"] = Strict(Obj(("ids", Arr(Str(), "1–100 cue ids."))), "ids"),
            ["WebhookSecretRegenerateRequest"] = Strict(Obj(("grace_period_seconds", Int("0–604800, default 86400.")))),
            ["OutcomeRequest"] = Strict(Obj([
                ("success", Bool()),
                ("result", Str("≤ 2,000 characters.")),
                ("error", Str("≤ 2,000 characters.")),
                ("metadata", FreeObject("≤ 10,240 bytes canonical.")),
                .. EvidenceInput()]), "success"),
            ["VerifyRequest"] = Strict(Obj(("valid", Bool("Default true.")), ("reason", Str("≤ 500 characters.")))),
            ["EvidenceRequest"] = Strict(Obj([.. EvidenceInput()])),
        };

        return schemas;
    }

    private static (string, IOpenApiSchema)[] CueProperties() =>
    [
        ("id", Str("`cue_` + 12 characters [a-z0-9].")),
        ("name", Str()),
        ("description", StrN()),
        ("status", Enum("active", "paused", "completed", "failed")),
        ("transport", Enum("webhook", "worker")),
        ("schedule", Obj(("type", Enum("once", "recurring")), ("cron", StrN()), ("at", TimeN()), ("timezone", Str("IANA id, canonical spelling.")))),
        ("callback", Obj(("url", StrN()), ("method", Enum("POST", "PUT", "PATCH", "GET")), ("headers", StringMap()))),
        ("payload", FreeObject()),
        ("retry", Obj(("max_attempts", Int("1–10, the first attempt included.")), ("backoff_minutes", Arr(Int(), "1–10 items, each 1–1,440.")))),
        ("delivery", Obj(("timeout_seconds", Int("1–300.")))),
        ("catch_up", Enum("skip_missed", "run_once_if_missed", "replay_all_missed")),
        ("on_failure", Obj(("email", Bool()), ("webhook", StrN()), ("pause", Bool()))),
        ("verification", Obj(("mode", Enum("none", "require_external_id", "require_result_url", "require_artifacts", "manual")))),
        ("next_run", TimeN()),
        ("last_run", TimeN("When the latest execution finished delivery.")),
        ("run_count", Int("Executions that finished delivery, any trigger.")),
        ("fired_count", Int("Executions created by the schedule.")),
        ("warning", StrN("A non-fatal notice.")),
        ("created_at", Time()),
        ("updated_at", Time()),
    ];

    private static (string, IOpenApiSchema)[] ExecutionProperties(Func<string, IOpenApiSchema> reference) =>
    [
        ("id", Str("Lowercase hyphenated UUID; the receiver's idempotency key.")),
        ("cue_id", Str()),
        ("scheduled_for", Time("Nominal due instant.")),
        ("triggered_by", Enum("scheduled", "manual_fire", "replay")),
        ("replayed_from", StrN("The source execution of a replay.")),
        ("status", Enum("pending", "delivering", "retrying", "success", "failed", "missed", "cancelled")),
        ("attempts", Int("Attempts started so far.")),
        ("http_status", IntN("HTTP response code of the last attempt.")),
        ("error_message", StrN("Why the last attempt failed.")),
        ("response_body", StrN("The first 2,048 bytes of the last response body.")),
        ("started_at", TimeN()),
        ("last_attempt_at", TimeN()),
        ("delivered_at", TimeN("When the 2xx was received.")),
        ("next_retry", TimeN("Set only while retrying.")),
        ("payload", FreeObject("The exact payload snapshot delivered.")),
        ("outcome_state", StrN("Null until an outcome is reported (§7.3).")),
        ("outcome", Nullable(reference("Outcome"))),
        ("created_at", Time()),
        ("updated_at", Time()),
    ];

    private static OpenApiSchema CueInput(bool update)
    {
        var schema = Obj(
            ("name", Str("1–255 characters, unique in the account.")),
            ("description", StrN("≤ 2,000 characters.")),
            ("schedule", Obj(("type", Enum("once", "recurring")), ("cron", StrN("5-field cron (§6.1).")), ("at", TimeN()), ("timezone", Str("IANA id, default UTC.")))),
            ("transport", Enum("webhook", "worker")),
            ("callback", Obj(("url", Str()), ("method", Enum("POST", "PUT", "PATCH", "GET")), ("headers", StringMap("≤ 20 entries; reserved names refused.")))),
            ("payload", FreeObject()),
            ("retry", Obj(("max_attempts", Int()), ("backoff_minutes", Arr(Int())))),
            ("delivery", Obj(("timeout_seconds", Int()))),
            ("catch_up", Enum("skip_missed", "run_once_if_missed", "replay_all_missed")),
            ("on_failure", Obj(("email", Bool()), ("webhook", StrN()), ("pause", Bool()))),
            ("verification", Nullable(Obj(("mode", Enum("none", "require_external_id", "require_result_url", "require_artifacts", "manual"))))));
        if (update)
        {
            schema.Properties!["status"] = Enum("active", "paused");
        }

        // Nested input objects: their members are optional (defaults apply on create, omitted means unchanged on update).
        foreach (var property in schema.Properties!.Values.OfType<OpenApiSchema>().Where(p => p.Properties is { Count: > 0 }))
        {
            property.Required = new HashSet<string>(StringComparer.Ordinal);
            property.AdditionalPropertiesAllowed = false;
        }

        if (!update)
        {
            ((OpenApiSchema)schema.Properties["schedule"]).Required = new HashSet<string>(StringComparer.Ordinal) { "type" };
            ((OpenApiSchema)schema.Properties["callback"]).Required = new HashSet<string>(StringComparer.Ordinal) { "url" };
        }

        return schema;
    }

    private static (string, IOpenApiSchema)[] EvidenceInput() =>
    [
        ("external_id", Str("≤ 255 characters.")),
        ("result_url", Str("Absolute http(s) URL ≤ 2,048; stored, never fetched.")),
        ("result_ref", Str("≤ 255 characters.")),
        ("result_type", Str("≤ 50 characters.")),
        ("summary", Str("≤ 500 characters.")),
        ("artifacts", Arr(new OpenApiSchema(), "≤ 100 JSON values, ≤ 10,240 bytes canonical.")),
    ];

    private static OpenApiSchema List(string items, IOpenApiSchema item) =>
        Obj((items, Arr(item, "Newest first by created_at, ties by id.")), ("total", Int("Every match.")), ("limit", Int()), ("offset", Int()), ("has_more", Bool()));

    /// <summary>A request body: only <paramref name="required"/> members are required, and unknown members are refused (422).</summary>
    private static OpenApiSchema Strict(OpenApiSchema schema, params string[] required)
    {
        schema.AdditionalPropertiesAllowed = false;
        schema.Required = required.ToHashSet(StringComparer.Ordinal);
        return schema;
    }

    /// <summary>A response object: every member is required, since every documented field is always present (§1).</summary>
    private static OpenApiSchema Obj(params (string Name, IOpenApiSchema Schema)[] properties) => new()
    {
        Type = JsonSchemaType.Object,
        Properties = properties.ToDictionary(p => p.Name, p => p.Schema, StringComparer.Ordinal),
        Required = properties.Select(p => p.Name).ToHashSet(StringComparer.Ordinal),
    };

    /// <summary>The few members that are not always present: 422 <c>details</c>, a degraded status's <c>reason</c>.</summary>
    private static OpenApiSchema Except(OpenApiSchema schema, params string[] optional)
    {
        schema.Required!.ExceptWith(optional);
        return schema;
    }

    private static OpenApiSchema Str(string? description = null) => new() { Type = JsonSchemaType.String, Description = description };

    private static OpenApiSchema StrN(string? description = null) => new() { Type = JsonSchemaType.String | JsonSchemaType.Null, Description = description };

    private static OpenApiSchema Int(string? description = null) => new() { Type = JsonSchemaType.Integer, Description = description };

    private static OpenApiSchema IntN(string? description = null) => new() { Type = JsonSchemaType.Integer | JsonSchemaType.Null, Description = description };

    private static OpenApiSchema Num() => new() { Type = JsonSchemaType.Number };

    private static OpenApiSchema Bool(string? description = null) => new() { Type = JsonSchemaType.Boolean, Description = description };

    private static OpenApiSchema Time(string? description = null) =>
        new() { Type = JsonSchemaType.String, Format = "date-time", Description = Join("RFC 3339 UTC with milliseconds.", description) };

    private static OpenApiSchema TimeN(string? description = null) =>
        new() { Type = JsonSchemaType.String | JsonSchemaType.Null, Format = "date-time", Description = Join("RFC 3339 UTC with milliseconds.", description) };

    private static OpenApiSchema Enum(params string[] values) =>
        new() { Type = JsonSchemaType.String, Enum = [.. values.Select(v => (JsonNode)v)], Description = "Clients tolerate values added later." };

    private static OpenApiSchema Arr(IOpenApiSchema item, string? description = null) => new() { Type = JsonSchemaType.Array, Items = item, Description = description };

    private static OpenApiSchema FreeObject(string? description = null) =>
        new() { Type = JsonSchemaType.Object, AdditionalPropertiesAllowed = true, Description = description ?? "Any JSON object." };

    private static OpenApiSchema StringMap(string? description = null) =>
        new() { Type = JsonSchemaType.Object, AdditionalProperties = Str(), Description = description };

    /// <summary>The schema or null: <c>oneOf</c> keeps a referenced or structured schema intact.</summary>
    private static OpenApiSchema Nullable(IOpenApiSchema schema) => new() { OneOf = [schema, new OpenApiSchema { Type = JsonSchemaType.Null }] };

    private static string? Join(string a, string? b) => b is null ? a : a + " " + b;
}
