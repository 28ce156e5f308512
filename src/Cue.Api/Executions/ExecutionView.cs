using System.Text.Json.Nodes;
using Cue.Contracts;
using Cue.Contracts.Events;

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
    string? ResponseBody,
    string? RemoteAddress,
    int? RetryAfterSeconds);

/// <summary>
/// The execution audit record of contract §7.1: an inline snapshot of the execution's own event stream,
/// so dropping and rebuilding it from the log gives the same record.
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
    public string? ResponseBody { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset? NextRetry { get; set; }
    /// <summary>When delivery ended (success, final failure, missed or cancelled): the cue's <c>last_run</c> source.</summary>
    public DateTimeOffset? FinishedAt { get; set; }
    public string Payload { get; set; } = "{}";
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

    public object ToResponse() => new
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
        response_body = ResponseBody,
        started_at = StartedAt,
        last_attempt_at = LastAttemptAt,
        delivered_at = DeliveredAt,
        next_retry = NextRetry,
        payload = JsonNode.Parse(Payload),
        outcome_state = OutcomeState,
        outcome = Outcome?.ToResponse(),
        created_at = CreatedAt,
        updated_at = UpdatedAt,
    };
}

/// <summary>The receiver's report on an execution (§7.1 <c>outcome</c>). JSON-valued fields hold canonical JSON text.</summary>
public sealed class OutcomeView
{
    public bool Success { get; set; }
    public string? Result { get; set; }
    public string? Error { get; set; }
    public string? Metadata { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
    public string? ExternalId { get; set; }
    public string? ResultUrl { get; set; }
    public string? ResultRef { get; set; }
    public string? ResultType { get; set; }
    public string? Summary { get; set; }
    public string? Artifacts { get; set; }
    public string? ValidationState { get; set; }

    public bool HasEvidence => ExternalId is not null || ResultUrl is not null || ResultRef is not null || ResultType is not null || Summary is not null || Artifacts is not null;

    public object ToResponse() => new
    {
        success = Success,
        result = Result,
        error = Error,
        metadata = Metadata is null ? null : JsonNode.Parse(Metadata),
        recorded_at = RecordedAt,
        external_id = ExternalId,
        result_url = ResultUrl,
        result_ref = ResultRef,
        result_type = ResultType,
        summary = Summary,
        artifacts = Artifacts is null ? null : JsonNode.Parse(Artifacts),
        validation_state = ValidationState,
    };
}
