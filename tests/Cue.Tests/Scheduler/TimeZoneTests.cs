using Cue.Scheduler.Occurrences;
using NUnit.Framework;

namespace Cue.Tests.Scheduler;

public sealed class Finding_a_time_zone
{
    [TestCase("Europe/Paris", "Europe/Paris")]
    [TestCase("europe/paris", "Europe/Paris")]
    [TestCase("AMERICA/NEW_YORK", "America/New_York")]
    [TestCase("UTC", "UTC")]
    [TestCase("utc", "UTC")]
    [TestCase("Etc/UTC", "Etc/UTC")]
    [TestCase("etc/utc", "Etc/UTC")]
    [TestCase("us/eastern", "US/Eastern")]
    [TestCase("Asia/Calcutta", "Asia/Calcutta")]
    [TestCase("Asia/Kolkata", "Asia/Kolkata")]
    [TestCase("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires")]
    [TestCase("Etc/GMT+5", "Etc/GMT+5")]
    public void Accepts_iana_ids_in_any_case_and_returns_the_canonical_spelling(string id, string canonical)
    {
        Assert.That(TimeZones.TryFind(id, out var zone, out var canonicalId), Is.True);
        Assert.That(canonicalId, Is.EqualTo(canonical));
        Assert.That(zone, Is.Not.Null);
    }

    [Test]
    public void Returns_the_zone_itself()
    {
        Assert.That(TimeZones.TryFind("america/new_york", out var zone, out _), Is.True);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(zone!.GetUtcOffset(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero)), Is.EqualTo(TimeSpan.FromHours(-5)));
            Assert.That(zone.GetUtcOffset(new DateTimeOffset(2026, 7, 15, 12, 0, 0, TimeSpan.Zero)), Is.EqualTo(TimeSpan.FromHours(-4)));
        }
    }

    [TestCase("Eastern Standard Time")]
    [TestCase("Romance Standard Time")]
    [TestCase("W. Europe Standard Time")]
    [TestCase("")]
    [TestCase("Mars/Olympus_Mons")]
    [TestCase("Europe/Paris ")]
    [TestCase("Europe//Paris")]
    [TestCase("localtime")]
    [TestCase("posixrules")]
    [TestCase("right/UTC")]
    [TestCase("posix/Europe/Paris")]
    [TestCase("../../etc/passwd")]
    [TestCase("/usr/share/zoneinfo/Europe/Paris")]
    [TestCase("Factory")]
    [TestCase("+01:00")]
    public void Rejects_anything_else(string id)
    {
        Assert.That(TimeZones.TryFind(id, out var zone, out var canonicalId), Is.False);
        Assert.That(zone, Is.Null);
        Assert.That(canonicalId, Is.Null);
    }
}

public sealed class Resolving_a_local_time_without_offset
{
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo LordHowe = TimeZoneInfo.FindSystemTimeZoneById("Australia/Lord_Howe");

    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Test]
    public void Maps_an_ordinary_time_to_its_instant() =>
        Assert.That(TimeZones.ResolveLocal(new DateTime(2026, 6, 1, 12, 0, 0), NewYork), Is.EqualTo(Utc(2026, 6, 1, 16, 0)));

    [Test]
    public void Maps_a_skipped_time_to_the_transition_instant()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(TimeZones.ResolveLocal(new DateTime(2026, 3, 8, 2, 30, 0), NewYork), Is.EqualTo(Utc(2026, 3, 8, 7, 0)));
            Assert.That(TimeZones.ResolveLocal(new DateTime(2026, 3, 8, 2, 0, 0), NewYork), Is.EqualTo(Utc(2026, 3, 8, 7, 0)));
            Assert.That(TimeZones.ResolveLocal(new DateTime(2026, 3, 29, 2, 59, 59), Berlin), Is.EqualTo(Utc(2026, 3, 29, 1, 0)));
            // Lord Howe moves from +10:30 to +11:00 at 02:00 on 4 October 2026: 02:00–02:29 do not exist.
            Assert.That(TimeZones.ResolveLocal(new DateTime(2026, 10, 4, 2, 15, 0), LordHowe), Is.EqualTo(Utc(2026, 10, 3, 15, 30)));
        }
    }

    [Test]
    public void Maps_a_repeated_time_to_its_first_instant()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(TimeZones.ResolveLocal(new DateTime(2026, 11, 1, 1, 30, 0), NewYork), Is.EqualTo(Utc(2026, 11, 1, 5, 30)));
            Assert.That(TimeZones.ResolveLocal(new DateTime(2026, 10, 25, 2, 30, 0), Berlin), Is.EqualTo(Utc(2026, 10, 25, 0, 30)));
        }
    }

    [Test]
    public void Reads_the_wall_clock_whatever_the_kind() =>
        Assert.That(
            TimeZones.ResolveLocal(new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc), Berlin),
            Is.EqualTo(Utc(2026, 6, 1, 10, 0)));

    [Test]
    public void Returns_utc() =>
        Assert.That(TimeZones.ResolveLocal(new DateTime(2026, 6, 1, 12, 0, 0), Berlin).Offset, Is.EqualTo(TimeSpan.Zero));
}
