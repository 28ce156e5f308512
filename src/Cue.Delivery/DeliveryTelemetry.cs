using System.Diagnostics;
using Cue.Contracts;
using Cue.Contracts.Messages;
using Cue.Delivery.Attempts;
using Cue.Delivery.Sending;
using Cue.Hosting;

namespace Cue.Delivery;

/// <summary>
/// The delivery worker's span and measurements. <c>cue.deliver</c> is a child of MassTransit's consume
/// span (so of the fire that sent the message); the webhook POST and the <c>DeliveryAttempted</c> publish
/// happen under it, so the receiver's <c>traceparent</c> and the audit append join the same trace.
/// </summary>
internal static class DeliveryTelemetry
{
    public static Activity? StartDeliver(DeliverCue message)
    {
        var activity = CueTelemetry.Source.StartActivity("cue.deliver");
        if (activity is null)
        {
            return null;
        }

        activity.SetTag(CueTelemetry.CueId, message.CueId);
        activity.SetTag(CueTelemetry.ExecutionId, message.ExecutionId.ToString("D"));
        activity.SetTag(CueTelemetry.Attempt, message.Attempt);
        activity.SetTag(CueTelemetry.Trigger, message.TriggeredBy);
        activity.SetTag(CueTelemetry.ScheduledFor, Timestamps.ToWire(message.ScheduledFor));
        return activity;
    }

    /// <summary>Records one attempt's result: the span's outcome, the delivery and retry counters, and a first attempt's lag.</summary>
    public static void Attempted(Activity? activity, DeliverCue message, AttemptOutcome outcome, string result, bool retryScheduled)
    {
        CueTelemetry.Deliveries.Add(1, new(CueTelemetry.Result, result), new(CueTelemetry.Trigger, message.TriggeredBy));
        if (retryScheduled)
        {
            CueTelemetry.Retries.Add(1, new KeyValuePair<string, object?>(CueTelemetry.Trigger, message.TriggeredBy));
        }

        // Only a first attempt is due at scheduled_for; a retry's due time does not travel in the message.
        if (message.Attempt == 1)
        {
            CueTelemetry.FireLag.Record((outcome.StartedAt - message.ScheduledFor).TotalMilliseconds,
                new(CueTelemetry.Stage, "delivery"), new(CueTelemetry.Trigger, message.TriggeredBy));
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag(CueTelemetry.Result, result);
        activity.SetTag(CueTelemetry.Retry, retryScheduled);
        if (outcome.HttpStatus is { } status)
        {
            activity.SetTag("http.response.status_code", status);
        }

        if (outcome.Result != AttemptResult.Success)
        {
            activity.SetStatus(ActivityStatusCode.Error, result);
        }
    }

    /// <summary>The message names a cue whose delivery view is gone (deleted): nothing is sent.</summary>
    public static void Dropped(Activity? activity) => activity?.SetTag(CueTelemetry.Result, "dropped");
}
