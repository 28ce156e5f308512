using Cue.Api.Dashboard;

namespace Cue.Tests.Dashboard;

public sealed class ScheduleWordsTests
{
    [TestCase("* * * * *", "every minute")]
    [TestCase("*/5 * * * *", "every 5 minutes")]
    [TestCase("0 * * * *", "every hour, on the hour")]
    [TestCase("15 * * * *", "every hour at minute 15")]
    [TestCase("0 9 * * 1-5", "at 09:00 on Monday–Friday")]
    [TestCase("0,30 8,17 * * *", "at 08:00, 08:30, 17:00, 17:30 every day")]
    [TestCase("30 8,17 * * *", "at 08:30, 17:30 every day")]
    [TestCase("0 0 1 * *", "at 00:00 on day 1 of the month")]
    [TestCase("0 0 1,15 * MON", "at 00:00 on day 1, 15 of the month or on Monday")]
    [TestCase("0 0 */2 * MON", "at 00:00 every 2nd day of the month and on Monday")]
    [TestCase("0 12 * JAN-MAR SUN", "at 12:00 on Sunday in January–March")]
    [TestCase("0 12 * * 7", "at 12:00 on Sunday")]
    [TestCase("@daily", "at 00:00 every day")]
    [TestCase("@weekly", "at 00:00 on Sunday")]
    [TestCase("@yearly", "at 00:00 on day 1 of the month in January")]
    [TestCase("0 */6 * * *", "on the hour, every 6 hours")]
    [TestCase("0-30/10 9-17 * * *", "at minutes 0-30/10, during hour 9–17 every day")]
    public void Describes_cron_in_words(string cron, string words) =>
        Assert.That(ScheduleWords.Cron(cron), Is.EqualTo(words));

    [Test]
    public void Names_the_time_zone_and_once_times()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ScheduleWords.Describe("recurring", "0 9 * * 1-5", null, "Europe/Paris"), Is.EqualTo("at 09:00 on Monday–Friday (Europe/Paris time)"));
            Assert.That(ScheduleWords.Describe("recurring", "0 9 * * *", null, "UTC"), Is.EqualTo("at 09:00 every day (UTC)"));
            Assert.That(ScheduleWords.Describe("once", null, "2026-03-20T16:00:00.250Z", "UTC"), Is.EqualTo("once, at 2026-03-20 16:00:00.250 UTC"));
        });
    }
}
