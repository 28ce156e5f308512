namespace Cue.Api.Hosting.OpenApi;

/// <summary>One error a route can answer with: the HTTP status and the contract's code (§3).</summary>
internal sealed record ErrorDoc(int Status, string Code);

/// <summary>A query parameter a route reads itself (the handlers take <c>HttpRequest</c>, so nothing infers these).</summary>
internal sealed record QueryDoc(string Name, string Description, bool Integer = false);

/// <summary>How one route is documented: what the OpenAPI document says about it, from the contract.</summary>
internal sealed record OperationDoc(
    string Tag,
    string Summary,
    string Description,
    int Success,
    string? Response,
    IReadOnlyList<ErrorDoc> Errors,
    bool Auth = true,
    string? Request = null,
    bool RequestRequired = true,
    IReadOnlyList<QueryDoc>? Query = null,
    string ErrorSchema = "Error");

/// <summary>
/// The documentation of every route of contract §5, keyed by <c>"METHOD /route/pattern"</c> exactly as
/// routing spells the pattern. Endpoint code stays free of documentation; <see cref="OperationDocsTransformer"/>
/// applies this table to each operation, and tests hold it equal to the contract's list and the app's routes.
/// </summary>
internal static class OperationDocs
{
    private static ErrorDoc E(int status, string code) => new(status, code);

    // Errors shared by groups of routes.
    private static readonly ErrorDoc[] Key = [E(401, "invalid_api_key"), E(401, "key_rotated"), E(429, "rate_limit_exceeded")];
    private static readonly ErrorDoc[] Body = [E(400, "invalid_json"), E(413, "request_too_large"), E(415, "unsupported_media_type")];
    private static readonly ErrorDoc[] Server = [E(500, "internal_error"), E(503, "service_unavailable")];
    private static readonly ErrorDoc[] Validation = [E(422, "validation_error")];
    private static readonly ErrorDoc[] Confirm = [E(400, "confirmation_required")];
    private static readonly ErrorDoc[] CueUrl = [E(400, "invalid_callback_url"), E(400, "https_required"), E(400, "callback_url_blocked")];
    private static readonly ErrorDoc[] Payload = [E(400, "invalid_payload"), E(400, "invalid_payload_size")];
    private static readonly ErrorDoc[] NoCue = [E(404, "cue_not_found")];
    private static readonly ErrorDoc[] NoExecution = [E(404, "execution_not_found")];
    private static readonly ErrorDoc[] Reserved = [E(501, "not_implemented")];
    private static readonly ErrorDoc[] OutcomeStates = [E(409, "no_outcome"), E(409, "invalid_state")];

    private static readonly QueryDoc Limit = new("limit", "Page size, 1–100.", Integer: true);
    private static readonly QueryDoc Offset = new("offset", "Items to skip, ≥ 0 (default 0).", Integer: true);

    private const string WorkerLater = "Reserved for the worker transport (contract §5, \"Later\"): answers 501 `not_implemented` until it is built.";

    public static readonly IReadOnlyDictionary<string, OperationDoc> All = new Dictionary<string, OperationDoc>(StringComparer.Ordinal)
    {
        // §5.1 Auth and account
        ["POST /v1/auth/register"] = new("Account", "Register an account",
            "Creates an account and returns its API key (shown exactly once) and webhook secret. No key needed; limited to 10 requests a minute per IP.",
            201, "Registration", [.. Body, .. Validation, E(403, "registration_disabled"), E(409, "duplicate_email"), E(429, "rate_limit_exceeded"), .. Server],
            Auth: false, Request: "RegisterRequest"),
        ["GET /v1/auth/me"] = new("Account", "The caller's account",
            "The account behind the key, with its quotas and current usage.",
            200, "Me", [.. Key, .. Server]),
        ["POST /v1/auth/key/regenerate"] = new("Account", "Regenerate the API key",
            "Issues a new key in the same mode; the old one stops working at once (and answers 401 `key_rotated` for 24 h). Requires `X-Confirm-Destructive: true`; no body.",
            200, "KeyRegenerated", [.. Key, .. Confirm, .. Server]),
        ["GET /v1/auth/webhook-secret"] = new("Account", "Read the webhook secret",
            "The current signing secret, and when the previous one stops being used during a rotation.",
            200, "WebhookSecret", [.. Key, .. Server]),
        ["POST /v1/auth/webhook-secret/regenerate"] = new("Account", "Rotate the webhook secret",
            "Issues a new signing secret. During the grace period deliveries carry both signatures. Requires `X-Confirm-Destructive: true`.",
            200, "WebhookSecretRegenerated", [.. Key, .. Body, .. Confirm, .. Validation, .. Server],
            Request: "WebhookSecretRegenerateRequest", RequestRequired: false),

        // §5.2 Cues
        ["POST /v1/cues"] = new("Cues", "Create a cue",
            "Validates fields in table order, then the name (409), then the cue limit (403). Answers 201 with the cue and a `Location` header.",
            201, "Cue", [.. Key, .. Body, E(400, "invalid_schedule"), .. CueUrl, .. Payload, E(400, "unsupported_transport"),
                E(403, "cue_limit_exceeded"), E(409, "duplicate_cue_name"), .. Validation, E(422, "invalid_timezone"), .. Server],
            Request: "CueCreateRequest"),
        ["GET /v1/cues"] = new("Cues", "List cues",
            "The account's cues, newest first.",
            200, "CueList", [.. Key, E(400, "invalid_filter"), .. Validation, .. Server],
            Query: [new("status", "One of `active`, `paused`, `completed`, `failed`."), Limit with { Description = "Page size, 1–100 (default 50)." }, Offset]),
        ["GET /v1/cues/{id}"] = new("Cues", "Get a cue",
            "The cue with a page of its executions, newest first.",
            200, "CueDetail", [.. Key, .. NoCue, .. Validation, .. Server],
            Query: [new("execution_limit", "Executions to embed, 1–100 (default 10).", Integer: true), new("execution_offset", "Executions to skip (default 0).", Integer: true)]),
        ["PATCH /v1/cues/{id}"] = new("Cues", "Update a cue",
            "Merges the given fields at every nesting level; `null` clears a nullable field; `status` pauses or resumes. Answers with the full cue.",
            200, "Cue", [.. Key, .. Body, E(400, "invalid_schedule"), .. CueUrl, .. Payload, .. NoCue, E(409, "duplicate_cue_name"),
                .. Validation, E(422, "invalid_timezone"), .. Server],
            Request: "CueUpdateRequest"),
        ["DELETE /v1/cues/{id}"] = new("Cues", "Delete a cue",
            "The cue disappears and its pending and retrying executions are cancelled; executions are kept. Answers 204 with no body.",
            204, null, [.. Key, .. NoCue, .. Server]),
        ["POST /v1/cues/bulk-delete"] = new("Cues", "Delete several cues",
            "Deletes up to 100 cues by id; ids not found are reported as skipped. Requires `X-Confirm-Destructive: true`.",
            200, "BulkDeleteResult", [.. Key, .. Body, .. Confirm, .. Validation, .. Server],
            Request: "BulkDeleteRequest"),
        ["POST /v1/cues/{id}/fire"] = new("Cues", "Fire a cue now",
            "Creates a `manual_fire` execution in any cue status; counts towards the monthly limit. The body is optional.",
            200, "FiredExecution", [.. Key, .. Body, .. Payload, E(403, "execution_limit_exceeded"), .. NoCue, .. Validation, .. Server],
            Request: "FireRequest", RequestRequired: false),

        // §5.3 Executions
        ["GET /v1/executions"] = new("Executions", "List executions",
            "The account's executions, newest first, with filters.",
            200, "ExecutionList", [.. Key, E(400, "invalid_filter"), E(400, "conflicting_filters"), .. Validation, .. Server],
            Query:
            [
                new("cue_id", "Only this cue's executions (a cue the account does not own matches nothing)."),
                new("status", "One delivery status."),
                new("status__in", "Comma-separated delivery statuses; not together with `status`."),
                new("outcome_state", "One outcome state."),
                new("triggered_by", "`scheduled`, `manual_fire` or `replay`."),
                new("result_type", "The outcome's result type."),
                new("has_evidence", "`true` or `false`."),
                new("since", "On `scheduled_for`, inclusive."),
                new("until", "On `scheduled_for`, exclusive."),
                Limit with { Description = "Page size, 1–100 (default 20)." },
                Offset,
            ]),
        ["GET /v1/executions/{id}"] = new("Executions", "Get an execution",
            "The audit record of one execution (§7.1).",
            200, "Execution", [.. Key, .. NoExecution, .. Server]),
        ["GET /v1/executions/{id}/attempts"] = new("Executions", "List an execution's attempts",
            "Every delivery attempt, oldest first.",
            200, "AttemptList", [.. Key, .. NoExecution, .. Server]),
        ["POST /v1/executions/{id}/outcome"] = new("Executions", "Report an outcome",
            "Records what the job reported, once (write-once). Accepted in any delivery status and never changes it.",
            200, "OutcomeRecorded", [.. Key, .. Body, E(400, "metadata_too_large"), .. NoExecution, E(409, "outcome_already_recorded"), .. Validation, .. Server],
            Request: "OutcomeRequest"),
        ["POST /v1/executions/{id}/replay"] = new("Executions", "Replay an execution",
            "Creates a new `replay` execution with the original's payload, from a final status only. Counts towards the monthly limit.",
            200, "FiredExecution", [.. Key, E(403, "execution_limit_exceeded"), .. NoExecution, .. NoCue, E(409, "execution_in_flight"), .. Server]),
        ["POST /v1/executions/{id}/verify"] = new("Executions", "Verify an outcome",
            "Moves a reported or pending outcome to `verified_success` or `verification_failed`. The body is optional.",
            200, "VerifyResult", [.. Key, .. Body, .. NoExecution, .. OutcomeStates, .. Validation, .. Server],
            Request: "VerifyRequest", RequestRequired: false),
        ["POST /v1/executions/{id}/verification-pending"] = new("Executions", "Mark an outcome pending verification",
            "Moves a reported outcome to `verification_pending`. No body.",
            200, "VerificationPendingResult", [.. Key, .. NoExecution, .. OutcomeStates, .. Server]),
        ["PATCH /v1/executions/{id}/evidence"] = new("Executions", "Add evidence to an outcome",
            "Adds or overwrites evidence fields (at least one); `success`, `result`, `error` and `metadata` stay write-once.",
            200, "EvidenceUpdated", [.. Key, .. Body, .. NoExecution, E(409, "no_outcome"), .. Validation, .. Server],
            Request: "EvidenceRequest"),

        // §5.4 Usage, info, health
        ["GET /v1/usage"] = new("Service", "Usage and quotas",
            "This month's usage against the account's limits.",
            200, "Usage", [.. Key, .. Server]),
        ["GET /v1/info"] = new("Service", "Server information",
            "What this server is and what it speaks. No key; not rate limited.",
            200, "Info", [E(500, "internal_error")], Auth: false),
        ["GET /health"] = new("Service", "Health",
            "Always 200; each dependency check is `ok`, `down` or `stale`. No key; not rate limited.",
            200, "Health", [E(500, "internal_error")], Auth: false),
        ["GET /status"] = new("Service", "Status",
            "200 when healthy or degraded; 503 when the database or broker is unreachable. No key; not rate limited.",
            200, "Status", [E(503, "service_unavailable")], Auth: false, ErrorSchema: "StatusDown"),

        // §5 "Later": the worker transport
        ["GET /v1/executions/claimable"] = new("Worker (reserved)", "Claimable executions", WorkerLater, 200, null, [.. Key, .. Reserved, .. Server]),
        ["POST /v1/executions/claim"] = new("Worker (reserved)", "Claim the next execution", WorkerLater, 200, null, [.. Key, .. Reserved, .. Server]),
        ["POST /v1/executions/{id}/claim"] = new("Worker (reserved)", "Claim an execution", WorkerLater, 200, null, [.. Key, .. Reserved, .. Server]),
        ["POST /v1/executions/{id}/heartbeat"] = new("Worker (reserved)", "Extend an execution's claim", WorkerLater, 200, null, [.. Key, .. Reserved, .. Server]),
        ["POST /v1/worker/heartbeat"] = new("Worker (reserved)", "Worker heartbeat", WorkerLater, 200, null, [.. Key, .. Reserved, .. Server]),
        ["GET /v1/workers"] = new("Worker (reserved)", "List workers", WorkerLater, 200, null, [.. Key, .. Reserved, .. Server]),
        ["DELETE /v1/workers/{id}"] = new("Worker (reserved)", "Remove a worker", WorkerLater, 200, null, [.. Key, .. Reserved, .. Server]),
    };
}
