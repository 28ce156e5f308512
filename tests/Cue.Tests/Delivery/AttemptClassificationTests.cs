using Cue.Delivery.Attempts;
using NUnit.Framework;

namespace Cue.Tests.Delivery;

public sealed class Classifying_a_response
{
    [TestCase(200)]
    [TestCase(201)]
    [TestCase(202)]
    [TestCase(204)]
    [TestCase(299)]
    public void Counts_any_2xx_as_success(int status) =>
        Assert.That(AttemptClassifier.ForStatus(status), Is.EqualTo(AttemptResult.Success));

    [TestCase(100)]
    [TestCase(199)]
    [TestCase(300)]
    [TestCase(301)]
    [TestCase(302)]
    [TestCase(304)]
    [TestCase(400)]
    [TestCase(404)]
    [TestCase(410)]
    [TestCase(429)]
    [TestCase(500)]
    [TestCase(503)]
    [TestCase(599)]
    public void Counts_every_other_status_including_redirects_as_retryable(int status) =>
        Assert.That(AttemptClassifier.ForStatus(status), Is.EqualTo(AttemptResult.RetryableFailure));

    [TestCase(429, true)]
    [TestCase(503, true)]
    [TestCase(500, false)]
    [TestCase(502, false)]
    [TestCase(200, false)]
    public void Honours_retry_after_only_on_429_and_503(int status, bool honoured) =>
        Assert.That(AttemptClassifier.HonoursRetryAfter(status), Is.EqualTo(honoured));
}

public sealed class Reading_retry_after
{
    // Friday 20 March 2026, 16:00:00 UTC.
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 16, 0, 0, TimeSpan.Zero);

    [TestCase("120", 120)]
    [TestCase(" 7 ", 7)]
    [TestCase("0", 0)]
    [TestCase("Fri, 20 Mar 2026 16:02:00 GMT", 120)]
    [TestCase("Friday, 20-Mar-26 16:02:00 GMT", 120)]
    [TestCase("Fri Mar 20 16:00:30 2026", 30)]
    [TestCase("Fri, 20 Mar 2026 16:00:00 GMT", 0)]
    public void Accepts_delta_seconds_and_http_dates(string value, int expectedSeconds) =>
        Assert.That(AttemptClassifier.ParseRetryAfter(value, Now), Is.EqualTo(TimeSpan.FromSeconds(expectedSeconds)));

    [Test]
    public void Accepts_the_asctime_form_with_a_space_padded_day() =>
        Assert.That(
            AttemptClassifier.ParseRetryAfter("Fri Mar  6 16:00:45 2026", new DateTimeOffset(2026, 3, 6, 16, 0, 0, TimeSpan.Zero)),
            Is.EqualTo(TimeSpan.FromSeconds(45)));

    [TestCase(null)]
    [TestCase("")]
    [TestCase("soon")]
    [TestCase("-5")]
    [TestCase("+5")]
    [TestCase("1.5")]
    [TestCase("5 s")]
    [TestCase("Fri, 20 Mar 2026 15:59:59 GMT")]
    [TestCase("2026-03-20T16:02:00Z")]
    public void Ignores_unparsable_negative_and_past_values(string? value) =>
        Assert.That(AttemptClassifier.ParseRetryAfter(value, Now), Is.Null);

    [Test]
    public void Saturates_an_absurdly_long_delta() =>
        Assert.That(
            AttemptClassifier.ParseRetryAfter("99999999999999999999999", Now),
            Is.EqualTo(TimeSpan.FromSeconds(int.MaxValue)));
}

public sealed class Backing_off_after_a_failure
{
    private static readonly int[] Defaults = [1, 5, 15];
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [TestCase(1, 60)]
    [TestCase(2, 300)]
    [TestCase(3, 900)]
    [TestCase(4, 900)]
    [TestCase(10, 900)]
    public void Uses_the_step_for_the_failed_attempt_and_the_last_step_beyond_the_list(int failedAttempt, int expectedSeconds) =>
        Assert.That(Backoff.Delay(failedAttempt, Defaults, Minute, jitter01: 0), Is.EqualTo(TimeSpan.FromSeconds(expectedSeconds)));

    [Test]
    public void Adds_a_jitter_proportional_to_the_step() =>
        // 5 min + 0.5 × 10 % × 5 min = 315 s.
        Assert.That(Backoff.Delay(2, Defaults, Minute, jitter01: 0.5), Is.EqualTo(TimeSpan.FromSeconds(315)));

    [Test]
    public void Keeps_the_jitter_below_ten_percent()
    {
        var longest = Backoff.Delay(2, Defaults, Minute, jitter01: 0.9999999);
        Assert.That(longest, Is.GreaterThan(TimeSpan.FromSeconds(329.9)).And.LessThan(TimeSpan.FromSeconds(330)));
    }

    [TestCase(1.0)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    public void Refuses_a_jitter_draw_outside_zero_to_one(double jitter01) =>
        Assert.That(() => Backoff.Delay(1, Defaults, Minute, jitter01), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void Scales_with_the_time_unit() =>
        Assert.That(Backoff.Delay(2, Defaults, TimeSpan.FromSeconds(1), jitter01: 0), Is.EqualTo(TimeSpan.FromSeconds(5)));

    [Test]
    public void Uses_a_custom_single_step_for_every_retry() =>
        Assert.That(Backoff.Delay(5, [2], Minute, jitter01: 0), Is.EqualTo(TimeSpan.FromMinutes(2)));

    [Test]
    public void Waits_as_long_as_retry_after_asks_when_that_is_longer_than_the_step() =>
        Assert.That(
            Backoff.Next(1, Defaults, Minute, jitter01: 0, retryAfter: TimeSpan.FromSeconds(120)),
            Is.EqualTo(new RetryDelay(TimeSpan.FromSeconds(120), 120)));

    [Test]
    public void Caps_retry_after_at_the_longest_step() =>
        Assert.That(
            Backoff.Next(1, Defaults, Minute, jitter01: 0, retryAfter: TimeSpan.FromHours(1)),
            Is.EqualTo(new RetryDelay(TimeSpan.FromMinutes(15), 900)));

    [Test]
    public void Never_waits_less_than_the_step_when_retry_after_is_shorter() =>
        Assert.That(
            Backoff.Next(2, Defaults, Minute, jitter01: 0.5, retryAfter: TimeSpan.FromSeconds(10)),
            Is.EqualTo(new RetryDelay(TimeSpan.FromSeconds(315), 10)));

    [Test]
    public void Applies_jitter_to_the_step_only()
    {
        using (Assert.EnterMultipleScope())
        {
            // Step 15 min + 0.2 × 10 % = 918 s beats Retry-After 600 s; Retry-After 1,000 s is capped to 900 s, below 918 s.
            Assert.That(Backoff.Delay(3, Defaults, Minute, 0.2, TimeSpan.FromSeconds(600)), Is.EqualTo(TimeSpan.FromSeconds(918)));
            Assert.That(Backoff.Delay(3, Defaults, Minute, 0.2, TimeSpan.FromSeconds(1000)), Is.EqualTo(TimeSpan.FromSeconds(918)));
            // Step 1 min + 5 % = 63 s loses to Retry-After 200 s, which is not jittered.
            Assert.That(Backoff.Delay(1, Defaults, Minute, 0.5, TimeSpan.FromSeconds(200)), Is.EqualTo(TimeSpan.FromSeconds(200)));
        }
    }

    [Test]
    public void Caps_retry_after_in_test_units_too() =>
        Assert.That(
            Backoff.Next(1, Defaults, TimeSpan.FromSeconds(1), jitter01: 0, retryAfter: TimeSpan.FromSeconds(60)),
            Is.EqualTo(new RetryDelay(TimeSpan.FromSeconds(15), 15)));

    [Test]
    public void Records_no_retry_after_when_none_was_sent() =>
        Assert.That(Backoff.Next(1, Defaults, Minute, jitter01: 0).RetryAfterSeconds, Is.Null);
}
