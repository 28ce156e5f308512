using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary><c>GET /v1/auth/me</c> and <c>GET /v1/usage</c> (§5.1, §5.4): every field, never null, counted from the account's own cues and executions.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Reading_the_account
{
    private CueStack stack = null!;
    private CueApiClient api = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
    }

    [OneTimeTearDown]
    public void Dispose() => api.Dispose();

    [Test]
    public async Task Me_has_every_field_with_the_operator_defaults_and_nothing_null()
    {
        var account = await api.RegisterAsync("test");
        var me = await api.GetAsync("/v1/auth/me", account.ApiKey);
        Assert.That(me.Status, Is.EqualTo(200), me.Json.ToString());
        var json = me.Json;
        Assert.That(json.Names(), Is.EquivalentTo(new[]
        {
            "email", "mode", "plan", "active_cues", "active_cue_limit", "executions_this_month", "monthly_execution_limit",
            "rate_limit_per_minute", "has_webhook_secret", "api_key_prefix", "created_at",
        }));
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("email").GetString(), Is.EqualTo(account.Email));
            Assert.That(json.GetProperty("mode").GetString(), Is.EqualTo("test"));
            Assert.That(json.GetProperty("plan").GetString(), Is.EqualTo("self_hosted"));
            Assert.That(json.Integer("active_cues"), Is.Zero);
            Assert.That(json.Integer("active_cue_limit"), Is.EqualTo(1_000));
            Assert.That(json.Integer("executions_this_month"), Is.Zero);
            Assert.That(json.Integer("monthly_execution_limit"), Is.EqualTo(1_000_000));
            // The shared stack raises the per-key limit (the suite is one busy client); the default is tested with an API of its own.
            Assert.That(json.Integer("rate_limit_per_minute"), Is.EqualTo(1_000_000));
            Assert.That(json.GetProperty("has_webhook_secret").GetBoolean(), Is.True);
            Assert.That(json.GetProperty("api_key_prefix").GetString(), Is.EqualTo(account.ApiKey[..13]));
            Assert.That(json.GetProperty("created_at").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
        });
    }

    [Test]
    public async Task Me_and_usage_need_a_key()
    {
        foreach (var path in new[] { "/v1/auth/me", "/v1/usage" })
        {
            var reply = await api.GetAsync(path, null);
            Assert.Multiple(() =>
            {
                Assert.That(reply.Status, Is.EqualTo(401), path);
                Assert.That(reply.Code(), Is.EqualTo("invalid_api_key"), path);
                Assert.That(reply.Response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"), path);
            });
        }
    }

    [Test]
    public async Task Usage_has_the_exact_shape_for_the_current_utc_month()
    {
        var account = await api.RegisterAsync("test");
        var before = DateTimeOffset.UtcNow;
        var usage = await api.GetAsync("/v1/usage", account.ApiKey);
        Assert.That(usage.Status, Is.EqualTo(200), usage.Json.ToString());
        var json = usage.Json;
        Assert.That(json.Names(), Is.EquivalentTo(new[] { "plan", "billing_period", "cues", "executions", "outcomes", "rate_limit" }));
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("billing_period").Names(), Is.EquivalentTo(new[] { "start", "end", "days_remaining" }));
            Assert.That(json.GetProperty("cues").Names(), Is.EquivalentTo(new[] { "active", "used", "limit", "remaining", "percent_used" }));
            Assert.That(json.GetProperty("executions").Names(), Is.EquivalentTo(new[] { "used", "limit", "remaining", "percent_used" }));
            Assert.That(json.GetProperty("outcomes").Names(), Is.EquivalentTo(new[] { "reported", "succeeded", "failed" }));
            Assert.That(json.GetProperty("rate_limit").Names(), Is.EquivalentTo(new[] { "limit", "requests_per_minute", "remaining" }));
        });

        var month = new DateTimeOffset(before.Year, before.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var period = json.GetProperty("billing_period");
        var cues = json.GetProperty("cues");
        var executions = json.GetProperty("executions");
        var rate = json.GetProperty("rate_limit");
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("plan").GetString(), Is.EqualTo("self_hosted"));
            Assert.That(period.GetProperty("start").GetString(), Is.EqualTo(Timestamps.ToWire(month)));
            Assert.That(period.GetProperty("end").GetString(), Is.EqualTo(Timestamps.ToWire(month.AddMonths(1))));
            Assert.That(period.Integer("days_remaining"), Is.EqualTo((long)Math.Ceiling((month.AddMonths(1) - before).TotalDays)).Within(1));
            Assert.That(cues.Integer("active"), Is.Zero);
            Assert.That(cues.Integer("used"), Is.Zero);
            Assert.That(cues.Integer("limit"), Is.EqualTo(1_000));
            Assert.That(cues.Integer("remaining"), Is.EqualTo(1_000));
            Assert.That(cues.GetProperty("percent_used").GetDouble(), Is.Zero);
            Assert.That(executions.Integer("used"), Is.Zero);
            Assert.That(executions.Integer("limit"), Is.EqualTo(1_000_000));
            Assert.That(executions.Integer("remaining"), Is.EqualTo(1_000_000));
            Assert.That(json.GetProperty("outcomes").Integer("reported"), Is.Zero);
            Assert.That(json.GetProperty("outcomes").Integer("succeeded"), Is.Zero);
            Assert.That(json.GetProperty("outcomes").Integer("failed"), Is.Zero);
            Assert.That(rate.Integer("limit"), Is.EqualTo(1_000_000));
            // This very request is the one counted in the key's window.
            Assert.That(rate.Integer("requests_per_minute"), Is.EqualTo(1));
            Assert.That(rate.Integer("remaining"), Is.EqualTo(999_999));
        });
    }

    [Test]
    public async Task Cues_and_executions_are_counted_for_each_account_alone()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var planner = await api.RegisterAsync("test");
        var firer = await api.RegisterAsync("test");
        foreach (var name in new[] { "later-1", "later-2" })
        {
            var created = await api.PostAsync("/v1/cues", planner.ApiKey, new
            {
                name,
                schedule = new { type = "recurring", cron = "0 0 1 1 *" },
                callback = new { url = receiver.Url.ToString() },
            });
            Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        }

        // A cue due in a second: it fires, and its execution counts for this month.
        var soon = await api.PostAsync("/v1/cues", firer.ApiKey, new
        {
            name = "soon",
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(1)) },
            callback = new { url = receiver.Url.ToString() },
        });
        Assert.That(soon.Status, Is.EqualTo(201), soon.Json.ToString());
        var executions = await api.PollAsync($"/v1/executions?cue_id={soon.Json.GetProperty("id").GetString()}", firer.ApiKey,
            j => j.GetProperty("executions").GetArrayLength() == 1, TimeSpan.FromSeconds(20));
        Assert.That(executions.GetProperty("executions").GetArrayLength(), Is.EqualTo(1), stack.Logs());

        var plannerMe = await api.GetAsync("/v1/auth/me", planner.ApiKey);
        var plannerUsage = await api.GetAsync("/v1/usage", planner.ApiKey);
        var firerMe = await api.GetAsync("/v1/auth/me", firer.ApiKey);
        var firerUsage = await api.GetAsync("/v1/usage", firer.ApiKey);
        Assert.Multiple(() =>
        {
            Assert.That(plannerMe.Json.Integer("active_cues"), Is.EqualTo(2));
            Assert.That(plannerMe.Json.Integer("executions_this_month"), Is.Zero);
            Assert.That(plannerUsage.Json.GetProperty("cues").Integer("active"), Is.EqualTo(2));
            Assert.That(plannerUsage.Json.GetProperty("cues").Integer("used"), Is.EqualTo(2));
            Assert.That(plannerUsage.Json.GetProperty("cues").Integer("remaining"), Is.EqualTo(998));
            Assert.That(plannerUsage.Json.GetProperty("cues").GetProperty("percent_used").GetDouble(), Is.EqualTo(0.2));
            Assert.That(plannerUsage.Json.GetProperty("executions").Integer("used"), Is.Zero);
            Assert.That(firerMe.Json.Integer("executions_this_month"), Is.EqualTo(1));
            Assert.That(firerUsage.Json.GetProperty("executions").Integer("used"), Is.EqualTo(1));
            Assert.That(firerUsage.Json.GetProperty("executions").Integer("remaining"), Is.EqualTo(999_999));
        });
    }
}
