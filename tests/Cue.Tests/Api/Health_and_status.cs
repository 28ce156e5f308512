using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Health_and_status
{
    [Test]
    public async Task With_every_part_running_health_reports_each_check_ok()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);

        var health = await api.PollAsync("/health", null, j => j.GetProperty("status").GetString() == "healthy", TimeSpan.FromSeconds(15));
        Assert.Multiple(() =>
        {
            Assert.That(health.GetProperty("status").GetString(), Is.EqualTo("healthy"), health.ToString());
            Assert.That(health.GetProperty("checks").GetProperty("database").GetString(), Is.EqualTo("ok"));
            Assert.That(health.GetProperty("checks").GetProperty("broker").GetString(), Is.EqualTo("ok"));
            Assert.That(health.GetProperty("checks").GetProperty("scheduler").GetString(), Is.EqualTo("ok"));
            Assert.That(health.GetProperty("version").GetString(), Is.Not.Empty);
        });

        var status = await api.GetAsync("/status", null);
        Assert.That(status.Status, Is.EqualTo(200));
        Assert.That(status.Json.GetProperty("status").GetString(), Is.EqualTo("healthy"));

        foreach (var service in new[] { stack.Api, stack.Scheduler, stack.Delivery })
        {
            using var http = new HttpClient { BaseAddress = service.BaseAddress };
            using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
            Assert.That((int)ready.StatusCode, Is.EqualTo(200), service.Project);
        }
    }
}
