using System.ComponentModel.DataAnnotations;

namespace Cue.Delivery.Sending;

/// <summary>Bound to the <c>Delivery</c> section.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>
    /// The length of one "minute" of <c>retry.backoff_minutes</c>. Time is an input: production keeps one
    /// minute, tests shrink it to run minute-scale retry policies in seconds through the same code path.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan BackoffUnit { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a POST runs before the audit log is told the attempt started (status <c>delivering</c>). An
    /// attempt answered sooner reports only its result, which makes the same execution view with one
    /// append instead of two.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan StartedReportDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Deliveries in flight per worker; webhooks are I/O-bound. Every attempt holds a slot until its receiver
    /// answers or its timeout (up to 300 s) passes, so the slots must outnumber what one account's hanging
    /// receivers can hold: at 128, 160 hanging attempts stalled every other receiver's deliveries for a whole
    /// timeout (torture, hostile receivers). A waiting attempt costs a socket and a few KiB.
    /// </summary>
    [Range(1, 10_000)]
    public int ConcurrentDeliveries { get; set; } = 1024;
}
