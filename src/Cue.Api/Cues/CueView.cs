using System.Text.Json.Nodes;
using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Encryption;
using Cue.Scheduler.Occurrences;

namespace Cue.Api.Cues;

/// <summary>
/// A cue as the API shows it. Inline snapshot of the cue's stream: the sealed parts are copied as the events
/// hold them (a rebuild gives the same document) and opened only to answer (<see cref="ToResponse"/>).
/// </summary>
public sealed class CueView
{
    public string Id { get; set; } = "";
    /// <summary>The stream version (set by Marten): which configuration an attempt delivered.</summary>
    public long Version { get; set; }
    public Guid AccountId { get; set; }
    public string Name { get; set; } = "";
    public Sealed? Description { get; set; }
    public string Status { get; set; } = "active";
    public CueSchedule Schedule { get; set; } = new("once", null, null, "UTC");
    public CueCallback Callback { get; set; } = null!;
    public Sealed Payload { get; set; } = null!;
    public CueRetry Retry { get; set; } = new(3, [1, 5, 15]);
    public int TimeoutSeconds { get; set; } = 30;
    public string CatchUp { get; set; } = "run_once_if_missed";
    public CueOnFailure OnFailure { get; set; } = new(true, null, false);
    public string VerificationMode { get; set; } = "none";
    public DateTimeOffset? NextRun { get; set; }
    public string? Warning { get; set; }
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

    public void Apply(CueUpdated e)
    {
        Name = e.Name;
        Description = e.Description;
        Schedule = e.Schedule;
        Callback = e.Callback;
        Payload = e.Payload;
        Retry = e.Retry;
        TimeoutSeconds = e.TimeoutSeconds;
        CatchUp = e.CatchUp;
        OnFailure = e.OnFailure;
        VerificationMode = e.VerificationMode;
        Status = e.Status;
        if (e.Rescheduled)
        {
            NextRun = e.NextRunAt;
        }

        UpdatedAt = e.UpdatedAt;
    }

    public void Apply(CueCompleted e)
    {
        Status = "completed";
        NextRun = null;
        UpdatedAt = e.CompletedAt;
    }

    public void Apply(CueFailed e)
    {
        Status = "failed";
        NextRun = null;
        UpdatedAt = e.FailedAt;
    }

    public void Apply(CuePausedAfterFailure e)
    {
        Status = "paused";
        NextRun = null;
        UpdatedAt = e.PausedAt;
    }

    public void Apply(CatchUpTruncated e)
    {
        Warning = $"Catch-up after downtime dropped {e.Dropped} missed occurrence(s) up to {Contracts.Timestamps.ToWire(e.DroppedUntil)}; at most 100 are created per catch-up.";
        UpdatedAt = e.At;
    }

    /// <summary>A deleted cue leaves the view (GET answers 404 and its name is free again).</summary>
    public bool ShouldDelete(CueDeleted e) => true;

    /// <summary>
    /// <c>next_run</c> as of <paramref name="now"/>: the stored first occurrence until it passes, then the
    /// schedule's next occurrence after now (an active recurring cue keeps producing them).
    /// </summary>
    public DateTimeOffset? NextRunAt(DateTimeOffset now)
    {
        if (Status != "active" || NextRun is not { } stored || stored > now)
        {
            return Status == "active" ? NextRun : null;
        }

        if (Schedule.Type != "recurring")
        {
            // A once cue whose time has come has fired (or is firing): nothing is next.
            return null;
        }

        return CronSchedule.TryParse(Schedule.Cron ?? "", out var cron, out _) && TimeZones.TryFind(Schedule.Timezone, out var zone, out _)
            ? cron.NextAfter(now, zone)
            : null;
    }

    /// <summary>The configuration in clear, opened with the owning account's cipher.</summary>
    public CueConfig Open(AccountCipher cipher) => new(
        Name,
        cipher.Open(SealedFields.Description, Description),
        Schedule,
        new CallbackConfig(cipher.Open(SealedFields.CallbackUrl, Callback.Url), Callback.Method, SealedHeaders.Open(cipher, Callback.Headers)),
        cipher.Open(SealedFields.Payload, Payload),
        Retry,
        TimeoutSeconds,
        CatchUp,
        new FailureConfig(OnFailure.Email, cipher.Open(SealedFields.FailureWebhook, OnFailure.Webhook), OnFailure.Pause),
        VerificationMode);

    /// <summary>
    /// The Cue object of contract §5.2, every documented field present. The one place a cue becomes JSON (the
    /// API's answers and anything else that shows a cue call it); <paramref name="cipher"/> is the cue's account's.
    /// </summary>
    public object ToResponse(DateTimeOffset now, CueStats stats, AccountCipher cipher)
    {
        var config = Open(cipher);
        return new
        {
            id = Id,
            name = Name,
            description = config.Description,
            status = Status,
            transport = "webhook",
            schedule = new { type = Schedule.Type, cron = Schedule.Cron, at = Schedule.At, timezone = Schedule.Timezone },
            callback = new { url = config.Callback.Url, method = Callback.Method, headers = config.Callback.Headers },
            payload = JsonNode.Parse(config.Payload),
            retry = new { max_attempts = Retry.MaxAttempts, backoff_minutes = Retry.BackoffMinutes },
            delivery = new { timeout_seconds = TimeoutSeconds },
            catch_up = CatchUp,
            on_failure = new { email = OnFailure.Email, webhook = config.OnFailure.Webhook, pause = OnFailure.Pause },
            verification = new { mode = VerificationMode },
            next_run = NextRunAt(now),
            last_run = stats.LastRun,
            run_count = stats.RunCount,
            fired_count = stats.FiredCount,
            warning = Warning,
            created_at = CreatedAt,
            updated_at = UpdatedAt,
        };
    }
}
