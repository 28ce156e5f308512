using System.Net;
using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Torture;

/// <summary>
/// Invariant 1 through store outages (issue 8, scenario 2): RabbitMQ stopped for ~10 s, and separately
/// PostgreSQL stopped and started, while the plan's cues fire. No service is restarted by hand: each reports
/// the outage in <c>/health/ready</c> while it lasts and recovers by itself; every cue accepted with 201 is
/// delivered and recorded once; a create that arrives while PostgreSQL is down gets a clear 503 envelope.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("Torture")]
public sealed class Surviving_store_restarts
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);
    private PrivateStack stack = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => stack = await PrivateStack.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await PrivateStack.DisposeIfStartedAsync(stack);

    [Test]
    public async Task A_broker_outage_is_reported_and_survived_with_nothing_lost()
    {
        var scale = TortureScale.Current;
        await using var receiver = await WebhookReceiver.StartAsync();
        var plan = await FiringPlan.CreateAsync(stack, receiver, scale, lead: TimeSpan.FromSeconds(8));

        await plan.AtAsync(scale.Window * 0.2);
        await stack.Rabbit.StopAsync();
        var reported = await WatchReadinessAsync(Outage, "broker");
        await stack.Rabbit.StartAgainAsync();
        var recovered = await AllReadyWithinAsync(TimeSpan.FromSeconds(60));

        var row = await plan.CountAsync("RabbitMQ stopped ~10 s", $"outage seen by {string.Join("/", reported)}", scale.Window + TimeSpan.FromSeconds(90));
        Assert.Multiple(() =>
        {
            // The API keeps serving through a broker outage (the event log is the outbox), so it stays ready and
            // says degraded; the scheduler and the delivery worker can do nothing without the broker.
            Assert.That(reported, Is.EquivalentTo(new[] { "Cue.Api 200", "Cue.Delivery 503", "Cue.Scheduler 503" }), "/health/ready answers that reported the broker");
            Assert.That(recovered, Is.True, "every service ready again without a restart\n" + stack.Logs());
            Assert.That(row.Missing, Is.Zero, stack.Logs());
            Assert.That(row.BadExecutions, Is.Zero, "executions not exactly one final success per (cue, scheduled time)");
            Assert.That(row.ServerErrors, Is.Zero);
            Assert.That(row.MismatchedDeliveries, Is.Zero, "cues whose deliveries disagree on the execution id or scheduled_for");
        });
    }

    [Test]
    public async Task A_database_restart_is_reported_and_survived_and_a_create_meanwhile_gets_a_503()
    {
        var scale = TortureScale.Current;
        await using var receiver = await WebhookReceiver.StartAsync();
        var plan = await FiringPlan.CreateAsync(stack, receiver, scale, lead: TimeSpan.FromSeconds(8));

        await plan.AtAsync(scale.Window * 0.2);
        await stack.Postgres.StopAsync();
        var during = CreateDuringOutageAsync(plan);
        var reported = await WatchReadinessAsync(Outage, "database");
        var (status, code, seconds) = await during;
        await stack.Postgres.StartAgainAsync();
        var recovered = await AllReadyWithinAsync(TimeSpan.FromSeconds(60));

        var row = await plan.CountAsync("PostgreSQL stopped ~10 s", $"outage seen by {string.Join("/", reported)}; create meanwhile: {status} {code} in {seconds:F1} s", scale.Window + TimeSpan.FromSeconds(90));
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(503), "a create while PostgreSQL is down");
            Assert.That(code, Is.EqualTo("service_unavailable"));
            // Not a performance bound: a generous limit that tells an answer from a hang.
            Assert.That(seconds, Is.LessThan(30), "seconds until the create was answered");
            Assert.That(reported, Is.EquivalentTo(new[] { "Cue.Api 503", "Cue.Delivery 503", "Cue.Scheduler 503" }), "/health/ready answers that reported the database");
            Assert.That(recovered, Is.True, "every service ready again without a restart\n" + stack.Logs());
            Assert.That(row.Missing, Is.Zero, stack.Logs());
            Assert.That(row.BadExecutions, Is.Zero, "executions not exactly one final success per (cue, scheduled time)");
            Assert.That(row.ServerErrors, Is.Zero);
            Assert.That(row.MismatchedDeliveries, Is.Zero, "cues whose deliveries disagree on the execution id or scheduled_for");
        });
    }

    /// <summary>One create sent a second into the outage: its status, error code and how long it took to answer.</summary>
    private static async Task<(int Status, string? Code, double Seconds)> CreateDuringOutageAsync(FiringPlan plan)
    {
        await Task.Delay(TimeSpan.FromSeconds(1));
        var started = DateTime.UtcNow;
        var reply = await plan.Api.PostAsync("/v1/cues", plan.Account.ApiKey, new
        {
            name = "created-during-outage",
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1)) },
            callback = new { url = plan.Receiver.Url.ToString() },
        });
        var code = reply.Json.ValueKind == JsonValueKind.Object && reply.Json.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : null;
        return (reply.Status, code, (DateTime.UtcNow - started).TotalSeconds);
    }

    /// <summary>Polls every service's <c>/health/ready</c> for the outage; returns "service status" for each answer that reported <paramref name="check"/> not ok.</summary>
    private async Task<List<string>> WatchReadinessAsync(TimeSpan duration, string check)
    {
        var seen = new HashSet<string>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
        var deadline = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var service in stack.Services)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(service.BaseAddress, "/health/ready"));
                    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    if (json.RootElement.GetProperty("checks").TryGetProperty(check, out var state) && state.GetString() != "ok")
                    {
                        seen.Add($"{service.Project} {(int)response.StatusCode}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
                {
                }
            }

            await Task.Delay(500);
        }

        return [.. seen.Order()];
    }

    private async Task<bool> AllReadyWithinAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var ready = 0;
            foreach (var service in stack.Services)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(service.BaseAddress, "/health/ready"));
                    ready += response.IsSuccessStatusCode ? 1 : 0;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
            }

            if (ready == 3 && stack.Services.All(s => s.IsRunning))
            {
                return true;
            }

            await Task.Delay(500);
        }

        return false;
    }
}
