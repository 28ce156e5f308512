using System.Text.Json.Nodes;
using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Encryption;

namespace Cue.Api.Executions;

/// <summary>One attempt as the audit log keeps it.</summary>
public sealed record AttemptView(
    int Attempt,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int? DurationMs,
    string Result,
    int? HttpStatus,
    string? ErrorMessage,
    Sealed? ResponseBody,
    string? RemoteAddress,
    int? RetryAfterSeconds);

/// <summary>
/// The execution audit record of contract §7.1: an inline snapshot of the execution's own event stream,
/// so dropping and rebuilding it from the log gives the same record. Sealed values are copied as the events
/// hold them and opened only to answer (<see cref="ToResponse"/>).
/// </summary>
public sealed class ExecutionView
{
    public string Id { get; set; } = "";
    public Guid AccountId { get; set; }
    public string CueId { get; set; } = "";
    public string CueName { get; set; } = "";
    public DateTimeOffset ScheduledFor { get; set; }
    public string TriggeredBy { get; set; } = TriggerKinds.Scheduled;
    public string? ReplayedFrom { get; set; }
    public string? IdempotencyKey { get; set; }
    public string Status { get; set; } = "pending";
    public int Attempts { get; set; }
    public int? HttpStatus { get; set; }
    public string? ErrorMessage { get; set; }
    public Sealed? ResponseBody { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset? NextRetry { get; set; }
    /// <summary>When delivery ended (success, final failure, missed or cancelled): the cue's <c>last_run</c> source.</summary>
    public DateTimeOffset? FinishedAt { get; set; }
    public Sealed Payload { get; set; } = null!;
    public string? OutcomeState { get; set; }
    public OutcomeView? Outcome { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<AttemptView> AttemptLog { get; set; } = [];

    public static ExecutionView Create(ExecutionCreated e) => new()
    {
        Id = e.ExecutionId.ToString("D"),
        AccountId = e.AccountId,
        CueId = e.CueId,
        CueName = e.CueName,
        ScheduledFor = e.ScheduledFor,
        TriggeredBy = e.TriggeredBy,
        Payload = e.Payload,
        ReplayedFrom = e.ReplayedFrom?.ToString("D"),
        IdempotencyKey = e.IdempotencyKey,
        CreatedAt = e.CreatedAt,
        UpdatedAt = e.CreatedAt,
    };

    public static bool IsFinal(string status) => status is "success" or "failed" or "missed" or "cancelled";

    public void Apply(ExecutionMissed e)
    {
        Status = "missed";
        ErrorMessage = e.Reason;
        FinishedAt = e.MissedAt;
        UpdatedAt = e.MissedAt;
    }

    public void Apply(ExecutionCancelled e)
    {
        Status = "cancelled";
        NextRetry = null;
        FinishedAt = e.CancelledAt;
        UpdatedAt = e.CancelledAt;
    }

    public void Apply(OutcomeRecorded e)
    {
        OutcomeState = e.OutcomeState;
        Outcome = new OutcomeView
        {
            Success = e.Success,
            Result = e.Result,
            Error = e.Error,
            Metadata = e.Metadata,
            RecordedAt = e.RecordedAt,
            ExternalId = e.ExternalId,
            ResultUrl = e.ResultUrl,
            ResultRef = e.ResultRef,
            ResultType = e.ResultType,
            Summary = e.Summary,
            Artifacts = e.Artifacts,
            ValidationState = e.ValidationState,
        };
        UpdatedAt = e.RecordedAt;
    }

    public void Apply(VerificationChanged e)
    {
        OutcomeState = e.OutcomeState;
        if (Outcome is not null)
        {
            Outcome.ValidationState = e.ValidationState;
            Outcome.Summary = e.Summary;
        }

        UpdatedAt = e.ChangedAt;
    }

    public void Apply(EvidenceUpdated e)
    {
        OutcomeState = e.OutcomeState;
        if (Outcome is not null)
        {
            Outcome.ExternalId = e.ExternalId ?? Outcome.ExternalId;
            Outcome.ResultUrl = e.ResultUrl ?? Outcome.ResultUrl;
            Outcome.ResultRef = e.ResultRef ?? Outcome.ResultRef;
            Outcome.ResultType = e.ResultType ?? Outcome.ResultType;
            Outcome.Summary = e.Summary ?? Outcome.Summary;
            Outcome.Artifacts = e.Artifacts ?? Outcome.Artifacts;
            Outcome.ValidationState = e.ValidationState;
        }

        UpdatedAt = e.UpdatedAt;
    }

    public void Apply(AttemptStarted e)
    {
        Attempts = Math.Max(Attempts, e.Attempt);
        StartedAt ??= e.StartedAt;
        LastAttemptAt = e.StartedAt;
        NextRetry = null;
        UpdatedAt = e.StartedAt;
        if (!IsFinal(Status))
        {
            Status = "delivering";
        }
    }

    public void Apply(AttemptRecorded e)
    {
        AttemptLog.Add(new AttemptView(e.Attempt, e.StartedAt, e.FinishedAt, (int)Math.Round((e.FinishedAt - e.StartedAt).TotalMilliseconds),
            e.Result, e.HttpStatus, e.ErrorMessage, e.ResponseBody, e.RemoteAddress, e.RetryAfterSeconds));
        Attempts = Math.Max(Attempts, e.Attempt);
        HttpStatus = e.HttpStatus;
        ErrorMessage = e.ErrorMessage;
        ResponseBody = e.ResponseBody;
        StartedAt ??= e.StartedAt;
        LastAttemptAt = e.StartedAt;
        UpdatedAt = e.FinishedAt;
        NextRetry = null;
        if (Status == "cancelled")
        {
            // An attempt that was in flight when the cue was deleted is recorded; the execution stays cancelled.
            return;
        }

        if (e.Result == AttemptResults.Success)
        {
            Status = "success";
            DeliveredAt = e.FinishedAt;
            FinishedAt = e.FinishedAt;
        }
        else if (e.NextAttemptAt is { } next)
        {
            Status = "retrying";
            NextRetry = next;
        }
        else
        {
            Status = "failed";
            FinishedAt = e.FinishedAt;
        }
    }

    /// <summary>The Execution object of §7.1; <paramref name="cipher"/> is the execution's account's.</summary>
    public object ToResponse(AccountCipher cipher) => new
    {
        id = Id,
        cue_id = CueId,
        scheduled_for = ScheduledFor,
        triggered_by = TriggeredBy,
        replayed_from = ReplayedFrom,
        status = Status,
        attempts = Attempts,
        http_status = HttpStatus,
        error_message = ErrorMessage,
        response_body = cipher.Open(SealedFields.ResponseBody, ResponseBody),
        started_at = StartedAt,
        last_attempt_at = LastAttemptAt,
        delivered_at = DeliveredAt,
        next_retry = NextRetry,
        payload = JsonNode.Parse(cipher.Open(SealedFields.Payload, Payload)),
        outcome_state = OutcomeState,
        outcome = Outcome?.ToResponse(cipher),
        created_at = CreatedAt,
        updated_at = UpdatedAt,
    };
}

/// <summary>
/// The receiver's report on an execution (§7.1 <c>outcome</c>). JSON-valued fields hold canonical JSON text. The
/// receiver's text is sealed; <see cref="ResultType"/> and the validation state stay clear (the list filters on them).
/// </summary>
public sealed class OutcomeView
{
    public bool Success { get; set; }
    public Sealed? Result { get; set; }
    public Sealed? Error { get; set; }
    public Sealed? Metadata { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
    public Sealed? ExternalId { get; set; }
    public Sealed? ResultUrl { get; set; }
    public Sealed? ResultRef { get; set; }
    public string? ResultType { get; set; }
    public Sealed? Summary { get; set; }
    public Sealed? Artifacts { get; set; }
    public string? ValidationState { get; set; }

    public bool HasEvidence => ExternalId is not null || ResultUrl is not null || ResultRef is not null || ResultType is not null || Summary is not null || Artifacts is not null;

    public object ToResponse(AccountCipher cipher) => new
    {
        success = Success,
        result = cipher.Open(SealedFields.Result, Result),
        error = cipher.Open(SealedFields.Error, Error),
        metadata = Metadata is null ? null : JsonNode.Parse(cipher.Open(SealedFields.Metadata, Metadata)),
        recorded_at = RecordedAt,
        external_id = cipher.Open(SealedFields.ExternalId, ExternalId),
        result_url = cipher.Open(SealedFields.ResultUrl, ResultUrl),
        result_ref = cipher.Open(SealedFields.ResultRef, ResultRef),
        result_type = ResultType,
        summary = cipher.Open(SealedFields.Summary, Summary),
        artifacts = Artifacts is null ? null : JsonNode.Parse(cipher.Open(SealedFields.Artifacts, Artifacts)),
        validation_state = ValidationState,
    };
}
