using System.Text;
using System.Text.Json;
using Cue.Api.Hosting;
using Cue.Contracts.Events;
using Cue.Delivery.Signing;
using Cue.Encryption;

namespace Cue.Api.Executions;

/// <summary>The <c>outcome_state</c> values of contract §7.3.</summary>
internal static class OutcomeStates
{
    public const string ReportedSuccess = "reported_success";
    public const string ReportedFailure = "reported_failure";
    public const string VerifiedSuccess = "verified_success";
    public const string VerificationFailed = "verification_failed";
    public const string VerificationPending = "verification_pending";

    public static readonly string[] All = [ReportedSuccess, ReportedFailure, VerifiedSuccess, VerificationFailed, VerificationPending];
}

/// <summary>The cue's <c>verification.mode</c> values (§5.2) that the outcome rules act on.</summary>
internal static class VerificationModes
{
    public const string None = "none";
    public const string Manual = "manual";
    public const string RequireExternalId = "require_external_id";
    public const string RequireResultUrl = "require_result_url";
    public const string RequireArtifacts = "require_artifacts";
}

/// <summary>Evidence of an outcome (§5.3); a null member was not given. <see cref="Artifacts"/> is canonical JSON text.</summary>
internal sealed record Evidence(string? ExternalId, string? ResultUrl, string? ResultRef, string? ResultType, string? Summary, string? Artifacts)
{
    public static readonly Evidence None = new(null, null, null, null, null, null);

    public bool IsEmpty => this == None;
}

/// <summary>A report that passed the §5.3 field rules. <see cref="Metadata"/> is canonical JSON text.</summary>
internal sealed record OutcomeReport(bool Success, string? Result, string? Error, string? Metadata, Evidence Evidence);

/// <summary>
/// The outcome side of an execution as pure decisions: the §5.3 field rules for outcome, verify and
/// evidence bodies, and the §7.3 state table. Each decision takes the execution as it stands and returns
/// the event to append (or throws the contract's error), so the endpoints only load, decide and append.
/// Decisions read the receiver's text in clear and seal what they append with the account's cipher.
/// </summary>
internal static class OutcomeRules
{
    public const int MaxTextChars = 2_000;
    public const int MaxJsonBytes = 10_240;
    public const int MaxArtifacts = 100;
    public const int MaxIdChars = 255;
    public const int MaxUrlChars = 2_048;
    public const int MaxResultTypeChars = 50;
    public const int MaxSummaryChars = 500;
    public const int MaxReasonChars = 500;

    public const string SourceApi = "api";
    public const string SourceResponse = "response";

    private const string Valid = "valid";
    private const string Invalid = "invalid";

    /// <summary>The body of <c>POST /v1/executions/{id}/outcome</c>, checked in the §5.3 table's order.</summary>
    public static OutcomeReport ParseReport(JsonElement body)
    {
        var fields = new JsonFields(body);
        var success = fields.Bool("success") ?? throw ApiError.Validation("success", "Field required.");
        var result = Text(fields, "result", MaxTextChars);
        var error = Text(fields, "error", MaxTextChars);
        var metadata = Metadata(fields);
        var evidence = ReadEvidence(fields);
        fields.RejectUnknown();
        return new OutcomeReport(success, result, error, metadata, evidence);
    }

    /// <summary>The body of <c>PATCH …/evidence</c>: the outcome's evidence fields and limits, at least one given.</summary>
    public static Evidence ParseEvidence(JsonElement body)
    {
        var fields = new JsonFields(body);
        var evidence = ReadEvidence(fields);
        fields.RejectUnknown();
        return evidence.IsEmpty
            ? throw ApiError.Validation("body", "Give at least one of external_id, result_url, result_ref, result_type, summary, artifacts.")
            : evidence;
    }

    /// <summary>The body of <c>POST …/verify</c>: <c>{valid?: bool = true, reason?: string ≤ 500}</c>.</summary>
    public static (bool Valid, string? Reason) ParseVerify(JsonElement body)
    {
        var fields = new JsonFields(body);
        var valid = fields.Bool("valid") ?? true;
        var reason = Text(fields, "reason", MaxReasonChars);
        fields.RejectUnknown();
        return (valid, reason);
    }

    /// <summary>A call that takes no body: an empty body or <c>{}</c> (§1); any member is unknown.</summary>
    public static void ParseEmpty(JsonElement body) => new JsonFields(body).RejectUnknown();

    /// <summary>§7.3 for a new report: the resulting outcome state and validation state under the cue's mode.</summary>
    public static (string OutcomeState, string? ValidationState) StateOnReport(bool success, Evidence evidence, string mode)
    {
        if (!success)
        {
            return (OutcomeStates.ReportedFailure, null);
        }

        if (mode == VerificationModes.Manual)
        {
            return (OutcomeStates.VerificationPending, null);
        }

        if (RequiredEvidencePresent(mode, evidence) is not { } present)
        {
            return (OutcomeStates.ReportedSuccess, null);
        }

        return present ? (OutcomeStates.VerifiedSuccess, Valid) : (OutcomeStates.VerificationFailed, Invalid);
    }

    /// <summary>The first report through the API: write-once, so a second one is 409 whatever it says.</summary>
    public static OutcomeRecorded Report(ExecutionView execution, OutcomeReport report, string mode, DateTimeOffset now, AccountCipher cipher) =>
        execution.Outcome is null
            ? Record(Guid.Parse(execution.Id), report, mode, SourceApi, now, cipher)
            : throw ApiError.Conflict("outcome_already_recorded", $"An outcome was already recorded for execution {execution.Id}.");

    /// <summary>The event for a report that is known to be the first.</summary>
    public static OutcomeRecorded Record(Guid executionId, OutcomeReport report, string mode, string source, DateTimeOffset at, AccountCipher cipher)
    {
        var (state, validation) = StateOnReport(report.Success, report.Evidence, mode);
        var e = report.Evidence;
        return new OutcomeRecorded(executionId, report.Success, cipher.Seal(SealedFields.Result, report.Result), cipher.Seal(SealedFields.Error, report.Error),
            cipher.Seal(SealedFields.Metadata, report.Metadata), cipher.Seal(SealedFields.ExternalId, e.ExternalId), cipher.Seal(SealedFields.ResultUrl, e.ResultUrl),
            cipher.Seal(SealedFields.ResultRef, e.ResultRef), e.ResultType, cipher.Seal(SealedFields.Summary, e.Summary), cipher.Seal(SealedFields.Artifacts, e.Artifacts),
            state, validation, source, at);
    }

    /// <summary>
    /// A manual verdict (§7.3): from <c>reported_*</c> or <c>verification_pending</c> only. The reason is
    /// appended to the summary. <c>validation_state</c> stays what the automatic evidence check made it, so a
    /// later evidence PATCH can tell an automatic <c>verification_failed</c> from a manual one.
    /// </summary>
    public static VerificationChanged Verify(ExecutionView execution, bool valid, string? reason, DateTimeOffset now, AccountCipher cipher)
    {
        var outcome = Verifiable(execution);
        var summary = reason is null
            ? outcome.Summary
            : cipher.Seal(SealedFields.Summary, Cut(cipher.Open(SealedFields.Summary, outcome.Summary) is { Length: > 0 } s ? s + "\n" + reason : reason, MaxSummaryChars));
        return new VerificationChanged(Guid.Parse(execution.Id), valid ? OutcomeStates.VerifiedSuccess : OutcomeStates.VerificationFailed,
            outcome.ValidationState, summary, now);
    }

    /// <summary>Parks a reported outcome for a later verdict (§7.3); idempotent on <c>verification_pending</c>.</summary>
    public static VerificationChanged MarkPending(ExecutionView execution, DateTimeOffset now)
    {
        var outcome = Verifiable(execution);
        return new VerificationChanged(Guid.Parse(execution.Id), OutcomeStates.VerificationPending, outcome.ValidationState, outcome.Summary, now);
    }

    /// <summary>
    /// Adds or overwrites evidence (never success, result, error or metadata). An automatic
    /// <c>verification_failed</c> (one the evidence check made: validation <c>invalid</c>) is re-checked
    /// against the cue's <c>require_*</c> mode with the merged evidence and becomes <c>verified_success</c>
    /// once the missing item is there. Every other state is left alone.
    /// </summary>
    public static EvidenceUpdated AddEvidence(ExecutionView execution, Evidence evidence, string mode, DateTimeOffset now, AccountCipher cipher)
    {
        var outcome = execution.Outcome ?? throw NoOutcome(execution);
        var state = execution.OutcomeState ?? OutcomeStates.ReportedSuccess;
        var validation = outcome.ValidationState;
        if (state == OutcomeStates.VerificationFailed && validation == Invalid)
        {
            var merged = new Evidence(evidence.ExternalId ?? cipher.Open(SealedFields.ExternalId, outcome.ExternalId),
                evidence.ResultUrl ?? cipher.Open(SealedFields.ResultUrl, outcome.ResultUrl),
                evidence.ResultRef ?? cipher.Open(SealedFields.ResultRef, outcome.ResultRef), evidence.ResultType ?? outcome.ResultType,
                evidence.Summary ?? cipher.Open(SealedFields.Summary, outcome.Summary), evidence.Artifacts ?? cipher.Open(SealedFields.Artifacts, outcome.Artifacts));
            if (RequiredEvidencePresent(mode, merged) is true)
            {
                (state, validation) = (OutcomeStates.VerifiedSuccess, Valid);
            }
        }

        return new EvidenceUpdated(Guid.Parse(execution.Id), cipher.Seal(SealedFields.ExternalId, evidence.ExternalId), cipher.Seal(SealedFields.ResultUrl, evidence.ResultUrl),
            cipher.Seal(SealedFields.ResultRef, evidence.ResultRef), evidence.ResultType, cipher.Seal(SealedFields.Summary, evidence.Summary),
            cipher.Seal(SealedFields.Artifacts, evidence.Artifacts), state, validation, now);
    }

    /// <summary>
    /// §9.5: a 2xx body that is a JSON object with a boolean <c>success</c> is a report of
    /// <c>{success, result?, error?}</c>, strings cut to 2,000 characters; anything else is no report.
    /// Non-string <c>result</c>/<c>error</c> values are left out rather than losing the whole report.
    /// </summary>
    public static OutcomeReport? FromResponseBody(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("success", out var success)
                || success.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return null;
            }

            return new OutcomeReport(success.GetBoolean(), ResponseText(root, "result"), ResponseText(root, "error"), null, Evidence.None);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Cuts to at most <paramref name="max"/> UTF-16 units without splitting a surrogate pair.</summary>
    public static string Cut(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var end = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return text[..end];
    }

    /// <summary>
    /// Whether the evidence the mode requires is there (artifacts: a non-empty array); null when the mode
    /// requires none. An empty string is no evidence.
    /// </summary>
    private static bool? RequiredEvidencePresent(string mode, Evidence evidence) => mode switch
    {
        VerificationModes.RequireExternalId => !string.IsNullOrEmpty(evidence.ExternalId),
        VerificationModes.RequireResultUrl => !string.IsNullOrEmpty(evidence.ResultUrl),
        VerificationModes.RequireArtifacts => evidence.Artifacts is { Length: > 2 } artifacts && artifacts != "[]",
        _ => null,
    };

    private static OutcomeView Verifiable(ExecutionView execution)
    {
        var outcome = execution.Outcome ?? throw NoOutcome(execution);
        return execution.OutcomeState is OutcomeStates.ReportedSuccess or OutcomeStates.ReportedFailure or OutcomeStates.VerificationPending
            ? outcome
            : throw ApiError.Conflict("invalid_state", $"The outcome of execution {execution.Id} is '{execution.OutcomeState}'; only a reported or pending outcome can be verified.");
    }

    private static ApiError NoOutcome(ExecutionView execution) =>
        ApiError.Conflict("no_outcome", $"No outcome has been reported for execution {execution.Id}.");

    private static Evidence ReadEvidence(JsonFields fields)
    {
        var externalId = Text(fields, "external_id", MaxIdChars);
        var resultUrl = Url(fields, "result_url");
        var resultRef = Text(fields, "result_ref", MaxIdChars);
        var resultType = Text(fields, "result_type", MaxResultTypeChars);
        var summary = Text(fields, "summary", MaxSummaryChars);
        var artifacts = Artifacts(fields);
        return new Evidence(externalId, resultUrl, resultRef, resultType, summary, artifacts);
    }

    private static string? Text(JsonFields fields, string name, int max)
    {
        string? value;
        try
        {
            value = fields.String(name);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to decode an unpaired surrogate escape.
            throw ApiError.Validation(fields.Path(name), "Must be valid Unicode text (no unpaired surrogates).");
        }

        if (value is null)
        {
            return null;
        }

        if (value.Length > max)
        {
            throw ApiError.Validation(fields.Path(name), $"Must be at most {max:N0} characters.");
        }

        // PostgreSQL's jsonb, where events live, cannot hold U+0000.
        return value.Contains('\0', StringComparison.Ordinal)
            ? throw ApiError.Validation(fields.Path(name), "Must not contain U+0000.")
            : value;
    }

    private static string? Url(JsonFields fields, string name)
    {
        var url = Text(fields, name, MaxUrlChars);
        if (url is null)
        {
            return null;
        }

        // Stored only and never fetched, so no SSRF rules: just an absolute http(s) URL, taken as written.
        var ok = url.Length > 0 && url.Trim() == url && !url.Any(char.IsControl) && !url.Contains(' ', StringComparison.Ordinal)
            && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.Host.Length > 0;
        return ok ? url : throw ApiError.Validation(fields.Path(name), "Must be an absolute http(s) URL of at most 2,048 characters.");
    }

    private static string? Metadata(JsonFields fields)
    {
        var value = fields.Raw("metadata");
        if (value is null || value.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.Object)
        {
            throw ApiError.Validation(fields.Path("metadata"), "Must be an object.");
        }

        var canonical = Canonical(value.Value, fields.Path("metadata"));
        return canonical.Length > MaxJsonBytes
            ? throw ApiError.BadRequest("metadata_too_large", "Outcome metadata is over 10,240 bytes in canonical form.")
            : canonical;
    }

    private static string? Artifacts(JsonFields fields)
    {
        var value = fields.Raw("artifacts");
        if (value is null || value.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var path = fields.Path("artifacts");
        if (value.Value.ValueKind != JsonValueKind.Array)
        {
            throw ApiError.Validation(path, "Must be an array.");
        }

        if (value.Value.GetArrayLength() > MaxArtifacts)
        {
            throw ApiError.Validation(path, "Must have at most 100 items.");
        }

        var canonical = Canonical(value.Value, path);
        return canonical.Length > MaxJsonBytes
            ? throw ApiError.Validation(path, "Must be at most 10,240 bytes in canonical form.")
            : canonical;
    }

    /// <summary>The §9.3 canonical text (pure ASCII, so its length is its size in bytes); values that break §9.3 are 422.</summary>
    private static string Canonical(JsonElement value, string path) =>
        CanonicalJson.TryCanonicalize(Encoding.UTF8.GetBytes(value.GetRawText()), out var canonical, out var error)
            ? canonical
            : throw ApiError.Validation(path, $"Not storable JSON: {error}.");

    private static string? ResponseText(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            // jsonb cannot hold U+0000: replace it as undecodable bytes are replaced in stored response bodies.
            return Cut(value.GetString()!.Replace('\0', '\uFFFD'), MaxTextChars);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
