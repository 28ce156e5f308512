using System.Text.Json;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary><c>/health/ready</c> of each service lists its checks by name; <c>/health/live</c> checks nothing.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Readiness_checks
{
    [Test]
    public async Task Each_service_lists_its_database_and_broker_checks_and_answers_200_when_up()
    {
        var stack = await CueStack.SharedAsync();
        var expected = new Dictionary<CueProcess, string[]>
        {
            [stack.Api] = ["database", "broker"],
            [stack.Scheduler] = ["database", "broker", "quartz", "dispatch_lag"],
            [stack.Delivery] = ["database", "broker"],
        };

        foreach (var (service, names) in expected)
        {
            var (status, json) = await ReadyAsync(service);
            Assert.Multiple(() =>
            {
                Assert.That(status, Is.EqualTo(200), $"{service.Project}: {json}");
                Assert.That(json.GetProperty("status").GetString(), Is.AnyOf("healthy", "degraded"), service.Project);
                var checks = json.GetProperty("checks").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
                Assert.That(checks.Keys, Is.EquivalentTo(names), $"{service.Project}: {json}");
                foreach (var name in names.Where(n => n != "dispatch_lag"))
                {
                    Assert.That(checks[name], Is.EqualTo("ok"), $"{service.Project} {name}: {json}");
                }
            });
        }
    }

    [Test]
    public async Task The_scheduler_reports_quartz_running_and_its_lag()
    {
        var stack = await CueStack.SharedAsync();
        var (_, json) = await ReadyAsync(stack.Scheduler);
        var details = json.GetProperty("details");
        Assert.Multiple(() =>
        {
            Assert.That(details.GetProperty("quartz").GetString(), Is.EqualTo("running"), json.ToString());
            Assert.That(details.GetProperty("dispatch_lag").GetString(), Does.Match(@"^\d+ rows overdue by more than \d"), json.ToString());
        });
    }

    [Test]
    public async Task Live_answers_200_without_touching_dependencies()
    {
        var stack = await CueStack.SharedAsync();
        foreach (var service in new[] { stack.Api, stack.Scheduler, stack.Delivery })
        {
            using var http = new HttpClient { BaseAddress = service.BaseAddress };
            using var live = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
            var json = JsonDocument.Parse(await live.Content.ReadAsStringAsync()).RootElement;
            Assert.Multiple(() =>
            {
                Assert.That((int)live.StatusCode, Is.EqualTo(200), service.Project);
                Assert.That(json.GetProperty("checks").EnumerateObject(), Is.Empty, service.Project);
            });
        }
    }

    private static async Task<(int Status, JsonElement Json)> ReadyAsync(CueProcess service)
    {
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        var body = await ready.Content.ReadAsStringAsync();
        return ((int)ready.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }
}
