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
    public string Status { get; set; } = "pending";
    public int Attempts { get; set; }
    public int? HttpStatus { get; set; }
    public string? ErrorMessage { get; set; }
    public string? ResponseBody { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset? NextRetry { get; set; }
    public string Payload { get; set; } = "{}";
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
        CreatedAt = e.CreatedAt,
        UpdatedAt = e.CreatedAt,
    };

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
        if (e.Result == AttemptResults.Success)
        {
            Status = "success";
            DeliveredAt = e.FinishedAt;
        }
        else if (e.NextAttemptAt is { } next)
        {
            Status = "retrying";
            NextRetry = next;
        }
        else
        {
            Status = "failed";
        }
    }

    public object ToResponse() => new
    {
        id = Id,
        cue_id = CueId,
        scheduled_for = ScheduledFor,
        triggered_by = TriggeredBy,
        replayed_from = (string?)null,
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
        outcome_state = (string?)null,
        outcome = (object?)null,
        created_at = CreatedAt,
        updated_at = UpdatedAt,
    };
}
