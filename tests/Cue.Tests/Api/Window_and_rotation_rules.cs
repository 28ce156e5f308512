using System.Threading.RateLimiting;
using Cue.Api.Accounts;
using Cue.Contracts;
using Cue.Contracts.Events;
using Cue.Delivery.Targets;
using Cue.Encryption;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>The pure rules behind rate-limit headers and rotation: the window's clock and the secrets that sign.</summary>
public sealed class Window_and_rotation_rules
{
    /// <summary>A clock the test moves by hand; its timestamps are its own ticks.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset now = new(2026, 3, 20, 16, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => now.UtcTicks;

        public void Advance(TimeSpan by) => now += by;
    }

    [Test]
    public void A_window_refuses_past_its_limit_and_frees_each_permit_a_window_after_its_segment()
    {
        var clock = new ManualClock();
        using var limiter = new WindowLimiter(2, TimeSpan.FromSeconds(10), clock);
        var start = clock.GetUtcNow();

        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True);
        clock.Advance(TimeSpan.FromSeconds(3.5));
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True);
        var refused = limiter.AttemptAcquire();
        Assert.That(refused.IsAcquired, Is.False);
        Assert.That(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter), Is.True);
        // The first permit was taken in segment [0 s, 1 s): it comes back at 10 s.
        Assert.That(retryAfter, Is.EqualTo(TimeSpan.FromSeconds(6.5)));

        var stats = (WindowStatistics)limiter.GetStatistics()!;
        Assert.Multiple(() =>
        {
            Assert.That(stats.Limit, Is.EqualTo(2));
            Assert.That(stats.CurrentAvailablePermits, Is.Zero);
            Assert.That(stats.NextSlotFreesAt, Is.EqualTo(start.AddSeconds(10)));
        });

        // Refusals take nothing: just before 10 s still nothing; at 10 s exactly one permit is back.
        for (var i = 0; i < 5; i++)
        {
            Assert.That(limiter.AttemptAcquire().IsAcquired, Is.False);
        }

        clock.Advance(TimeSpan.FromSeconds(6.4));
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.False);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True);
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.False);

        // The second permit (segment [3 s, 4 s)) frees at 13 s.
        stats = (WindowStatistics)limiter.GetStatistics()!;
        Assert.That(stats.NextSlotFreesAt, Is.EqualTo(start.AddSeconds(13)));
    }

    [Test]
    public void A_window_left_alone_for_longer_than_itself_is_whole_again()
    {
        var clock = new ManualClock();
        using var limiter = new WindowLimiter(3, TimeSpan.FromSeconds(5), clock);
        for (var i = 0; i < 3; i++)
        {
            Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True);
        }

        clock.Advance(TimeSpan.FromHours(2));
        var stats = (WindowStatistics)limiter.GetStatistics()!;
        Assert.Multiple(() =>
        {
            Assert.That(stats.CurrentAvailablePermits, Is.EqualTo(3));
            Assert.That(stats.NextSlotFreesAt, Is.Null);
        });
        for (var i = 0; i < 3; i++)
        {
            Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True);
        }

        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.False);
    }

    [Test]
    public void The_previous_secret_signs_after_the_current_one_until_it_expires()
    {
        var at = new DateTimeOffset(2026, 3, 20, 16, 0, 0, TimeSpan.Zero);
        var cipher = TestCiphers.New();
        Sealed Secret(string secret) => cipher.Seal(SealedFields.WebhookSecret, secret);
        var keys = SigningKeys.Create(new AccountRegistered(cipher.AccountId, cipher.Seal(SealedFields.Email, "a@example.com"), "index", "test", "hash", "cue_test_abcd",
            Secret("whsec_first"), at));
        Assert.That(keys.ValidAt(at, cipher), Is.EqualTo(new[] { "whsec_first" }));

        keys.Apply(new WebhookSecretRegenerated(cipher.AccountId, Secret("whsec_second"), Secret("whsec_first"), at.AddHours(1), at));
        Assert.Multiple(() =>
        {
            Assert.That(keys.ValidAt(at, cipher), Is.EqualTo(new[] { "whsec_second", "whsec_first" }));
            Assert.That(keys.ValidAt(at.AddHours(1).AddMilliseconds(-1), cipher), Is.EqualTo(new[] { "whsec_second", "whsec_first" }));
            Assert.That(keys.ValidAt(at.AddHours(1), cipher), Is.EqualTo(new[] { "whsec_second" }));
            Assert.That(keys.PreviousValidUntil(at), Is.EqualTo(at.AddHours(1)));
            Assert.That(keys.PreviousValidUntil(at.AddHours(1)), Is.Null);
        });

        // Rotating within the grace period: the oldest goes, at most two remain.
        keys.Apply(new WebhookSecretRegenerated(cipher.AccountId, Secret("whsec_third"), Secret("whsec_second"), at.AddHours(2), at.AddMinutes(1)));
        Assert.That(keys.ValidAt(at.AddMinutes(1), cipher), Is.EqualTo(new[] { "whsec_third", "whsec_second" }));

        keys.Apply(new WebhookSecretRegenerated(cipher.AccountId, Secret("whsec_fourth"), null, null, at.AddMinutes(2)));
        Assert.Multiple(() =>
        {
            Assert.That(keys.ValidAt(at.AddMinutes(2), cipher), Is.EqualTo(new[] { "whsec_fourth" }));
            Assert.That(keys.PreviousValidUntil(at.AddMinutes(2)), Is.Null);
        });
    }
}
