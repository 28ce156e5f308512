using Cue.Scheduler.Occurrences;
using NUnit.Framework;

namespace Cue.Tests.Scheduler;

public sealed class Deriving_an_execution_id
{
    private static readonly DateTimeOffset Instant = new(2026, 3, 20, 16, 0, 0, TimeSpan.Zero);

    [Test]
    public void Reproduces_the_RFC_version_5_example()
    {
        var dns = Guid.Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        Assert.That(ExecutionIds.NameBased(dns, "www.example.com"), Is.EqualTo(Guid.Parse("2ed6657d-e927-568b-95e1-2665a8aea6a2")));
    }

    [Test]
    public void Is_pinned_for_a_known_occurrence() =>
        // uuid.uuid5(UUID("e534a768-300c-4b9c-acd0-bc805172e2ea"), "cue_a1b2c3d4e5f6|2026-03-20T16:00:00.000Z|scheduled")
        // computed with Python's uuid module. A change here changes every stored execution id.
        Assert.That(
            ExecutionIds.ForScheduled("cue_a1b2c3d4e5f6", Instant),
            Is.EqualTo(Guid.Parse("e9d8560d-3c05-5f78-937c-7cbcfd87a97e")));

    [Test]
    public void Is_the_same_for_the_same_cue_and_instant()
    {
        var first = ExecutionIds.ForScheduled("cue_a1b2c3d4e5f6", Instant);
        var second = ExecutionIds.ForScheduled("cue_a1b2c3d4e5f6", Instant);
        // The same instant written with another offset, and below millisecond precision.
        var sameInstantOtherwiseWritten = ExecutionIds.ForScheduled(
            "cue_a1b2c3d4e5f6", new DateTimeOffset(2026, 3, 20, 17, 0, 0, TimeSpan.FromHours(1)).AddTicks(9_999));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(second, Is.EqualTo(first));
            Assert.That(sameInstantOtherwiseWritten, Is.EqualTo(first));
        }
    }

    [Test]
    public void Differs_across_cues_and_instants()
    {
        var id = ExecutionIds.ForScheduled("cue_a1b2c3d4e5f6", Instant);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ExecutionIds.ForScheduled("cue_a1b2c3d4e5f7", Instant), Is.Not.EqualTo(id));
            Assert.That(ExecutionIds.ForScheduled("cue_a1b2c3d4e5f6", Instant.AddMilliseconds(1)), Is.Not.EqualTo(id));
            Assert.That(ExecutionIds.ForScheduled("cue_a1b2c3d4e5f6", Instant.AddDays(1)), Is.Not.EqualTo(id));
        }
    }

    [TestCase("cue_a1b2c3d4e5f6", 0)]
    [TestCase("cue_zzzzzzzzzzzz", 1)]
    [TestCase("cue_000000000000", 59)]
    public void Carries_version_5_and_the_RFC_variant(string cueId, int minutes)
    {
        var text = ExecutionIds.ForScheduled(cueId, Instant.AddMinutes(minutes)).ToString("D");
        Assert.That(text, Does.Match("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"));
    }
}
