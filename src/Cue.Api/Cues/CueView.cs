using System.Text.Json.Nodes;
using Cue.Contracts.Events;
using Cue.Scheduler.Occurrences;

namespace Cue.Api.Cues;

/// <summary>A cue as the API shows it. Inline snapshot of the cue's stream.</summary>
public sealed class CueView
{
    public string Id { get; set; } = "";
    public Guid AccountId { get; set; }
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public string Status { get; set; } = "active";
    public CueSchedule Schedule { get; set; } = new("once", null, null, "UTC");
    public CueCallback Callback { get; set; } = new("", "POST", new Dictionary<string, string>());
    public string Payload { get; set; } = "{}";
    public CueRetry Retry { get; set; } = new(3, [1, 5, 15]);
    public int TimeoutSeconds { get; set; } = 30;
    public string CatchUp { get; set; } = "run_once_if_missed";
    public CueOnFailure OnFailure { get; set; } = new(true, null, false);
    public string VerificationMode { get; set; } = "none";
    public DateTimeOffset? NextRun { get; set; }
    public DateTimeOffset? LastRun { get; set; }
    public int RunCount { get; set; }
    public int FiredCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public static CueView Create(CueCreated e) => new()
    {
        Id = e.CueId,
        AccountId = e.AccountId,
        Name = e.Name,
        Description = e.Description,
        Schedule = e.Schedule,
        Callback = e.Callback,
        Payload = e.Payload,
        Retry = e.Retry,
        TimeoutSeconds = e.TimeoutSeconds,
        CatchUp = e.CatchUp,
        OnFailure = e.OnFailure,
        VerificationMode = e.VerificationMode,
        NextRun = e.NextRunAt,
        CreatedAt = e.CreatedAt,
        UpdatedAt = e.CreatedAt,
    };

    /// <summary>
    /// <c>next_run</c> as of <paramref name="now"/>: the stored first occurrence until it passes, then the
    /// schedule's next occurrence after now (an active recurring cue keeps producing them).
    /// </summary>
    public DateTimeOffset? NextRunAt(DateTimeOffset now)
    {
        if (Status != "active" || NextRun is not { } stored || stored > now || Schedule.Type != "recurring")
        {
            return Status == "active" ? NextRun : null;
        }

        return CronSchedule.TryParse(Schedule.Cron ?? "", out var cron, out _) && TimeZones.TryFind(Schedule.Timezone, out var zone, out _)
            ? cron.NextAfter(now, zone)
            : null;
    }

    /// <summary>The Cue object of contract §5.2, every documented field present.</summary>
    public object ToResponse(DateTimeOffset now) => new
    {
        id = Id,
        name = Name,
        description = Description,
        status = Status,
        transport = "webhook",
        schedule = new { type = Schedule.Type, cron = Schedule.Cron, at = Schedule.At, timezone = Schedule.Timezone },
        callback = new { url = Callback.Url, method = Callback.Method, headers = Callback.Headers },
        payload = JsonNode.Parse(Payload),
        retry = new { max_attempts = Retry.MaxAttempts, backoff_minutes = Retry.BackoffMinutes },
        delivery = new { timeout_seconds = TimeoutSeconds },
        catch_up = CatchUp,
        on_failure = new { email = OnFailure.Email, webhook = OnFailure.Webhook, pause = OnFailure.Pause },
        verification = new { mode = VerificationMode },
        next_run = NextRunAt(now),
        last_run = LastRun,
        run_count = RunCount,
        fired_count = FiredCount,
        warning = (string?)null,
        created_at = CreatedAt,
        updated_at = UpdatedAt,
    };
}
