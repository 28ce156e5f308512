using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Creating_a_cue
{
    private CueStack stack = null!;
    private CueApiClient api = null!;
    private CueApiClient.Account test = null!;
    private CueApiClient.Account live = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
        test = await api.RegisterAsync("test");
        live = await api.RegisterAsync("live");
    }

    [OneTimeTearDown]
    public void Dispose() => api.Dispose();

    private static string Future => Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1));

    [Test]
    public async Task Answers_201_with_every_field_of_the_cue_object()
    {
        var reply = await api.PostAsync("/v1/cues", test.ApiKey, new
        {
            name = "shape",
            schedule = new { type = "once", at = Future },
            callback = new { url = "http://127.0.0.1:9/hook", method = "put", headers = new Dictionary<string, string> { ["X-Team"] = "ops" } },
            payload = new { n = 2 },
        });
        Assert.That(reply.Status, Is.EqualTo(201), reply.Json.ToString());
        var cue = reply.Json;
        Assert.That(reply.Response.Headers.Location?.ToString(), Is.EqualTo("/v1/cues/" + cue.GetProperty("id").GetString()));
        Assert.That(cue.GetProperty("id").GetString(), Does.Match("^cue_[a-z0-9]{12}$"));

        // §1.1: these are never null.
        string[] neverNull =
        [
            "id", "name", "status", "transport", "schedule", "schedule.type", "schedule.timezone", "callback", "callback.method",
            "callback.headers", "payload", "retry", "retry.max_attempts", "retry.backoff_minutes", "delivery", "delivery.timeout_seconds",
            "catch_up", "on_failure", "on_failure.email", "on_failure.pause", "verification", "verification.mode", "run_count",
            "fired_count", "created_at", "updated_at",
        ];
        foreach (var path in neverNull)
        {
            var value = path.Split('.').Aggregate(cue, (e, p) => e.GetProperty(p));
            Assert.That(value.ValueKind, Is.Not.EqualTo(JsonValueKind.Null), path);
        }

        foreach (var nullable in new[] { "description", "last_run", "warning" })
        {
            Assert.That(cue.GetProperty(nullable).ValueKind, Is.EqualTo(JsonValueKind.Null), nullable);
        }

        Assert.Multiple(() =>
        {
            Assert.That(cue.GetProperty("status").GetString(), Is.EqualTo("active"));
            Assert.That(cue.GetProperty("callback").GetProperty("method").GetString(), Is.EqualTo("PUT"));
            Assert.That(cue.GetProperty("retry").GetProperty("backoff_minutes").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 1, 5, 15 }));
            Assert.That(cue.GetProperty("catch_up").GetString(), Is.EqualTo("run_once_if_missed"));
            Assert.That(cue.GetProperty("next_run").GetString(), Is.EqualTo(cue.GetProperty("schedule").GetProperty("at").GetString()));
        });

        var fetched = await api.GetAsync("/v1/cues/" + cue.GetProperty("id").GetString(), test.ApiKey);
        Assert.That(fetched.Status, Is.EqualTo(200));
        Assert.That(fetched.Json.GetProperty("name").GetString(), Is.EqualTo("shape"));

        // Another account's key sees nothing.
        var other = await api.RegisterAsync("test");
        var foreign = await api.GetAsync("/v1/cues/" + cue.GetProperty("id").GetString(), other.ApiKey);
        Assert.That(foreign.Status, Is.EqualTo(404));
        Assert.That(foreign.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("cue_not_found"));
    }

    [TestCase("live", "http://127.0.0.1:9/hook", "https_required")]
    [TestCase("live", "https://127.0.0.1/hook", "callback_url_blocked")]
    [TestCase("live", "https://localhost/hook", "callback_url_blocked")]
    [TestCase("live", "https://10.0.0.1/hook", "callback_url_blocked")]
    [TestCase("live", "https://169.254.169.254/latest/meta-data/", "callback_url_blocked")]
    [TestCase("live", "https://metadata.google.internal/computeMetadata/v1/", "callback_url_blocked")]
    [TestCase("test", "http://example.com/hook", "https_required")]
    [TestCase("test", "https://2130706433/", "invalid_callback_url")]
    [TestCase("test", "https://good.com@127.0.0.1/", "invalid_callback_url")]
    [TestCase("test", "ftp://example.com/x", "invalid_callback_url")]
    public async Task Refuses_callback_urls_the_key_mode_does_not_allow(string mode, string url, string code)
    {
        var key = mode == "live" ? live.ApiKey : test.ApiKey;
        var reply = await api.PostAsync("/v1/cues", key, new
        {
            name = "url-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "once", at = Future },
            callback = new { url },
        });
        Assert.That(reply.Status, Is.EqualTo(400), reply.Json.ToString());
        Assert.That(reply.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo(code));
    }

    [TestCase("{\"type\": \"once\", \"at\": \"2001-01-01T00:00:00Z\"}", 400, "invalid_schedule")]
    [TestCase("{\"type\": \"once\"}", 400, "invalid_schedule")]
    [TestCase("{\"type\": \"recurring\", \"cron\": \"0 0 30 2 *\"}", 400, "invalid_schedule")]
    [TestCase("{\"type\": \"recurring\", \"cron\": \"* * * * * *\"}", 400, "invalid_schedule")]
    [TestCase("{\"type\": \"recurring\", \"cron\": \"0 9 * * *\", \"timezone\": \"Mars/Olympus\"}", 422, "invalid_timezone")]
    [TestCase("{\"type\": \"weekly\"}", 422, "validation_error")]
    [TestCase("{\"type\": \"once\", \"at\": \"2099-01-01T00:00:00Z\", \"every\": 5}", 422, "validation_error")]
    public async Task Refuses_bad_schedules(string schedule, int status, string code)
    {
        var body = $"{{\"name\": \"s-{Guid.NewGuid():N}\", \"schedule\": {schedule}, \"callback\": {{\"url\": \"http://127.0.0.1:9/\"}}}}";
        var reply = await api.SendRawAsync(HttpMethod.Post, "/v1/cues", test.ApiKey, body);
        Assert.That(reply.Status, Is.EqualTo(status), reply.Json.ToString());
        Assert.That(reply.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo(code));
    }

    [Test]
    public async Task A_duplicate_name_in_one_account_is_a_conflict()
    {
        object Body() => new { name = "twice", schedule = new { type = "once", at = Future }, callback = new { url = "http://127.0.0.1:9/" } };
        var account = await api.RegisterAsync("test");
        Assert.That((await api.PostAsync("/v1/cues", account.ApiKey, Body())).Status, Is.EqualTo(201));
        var again = await api.PostAsync("/v1/cues", account.ApiKey, Body());
        Assert.That(again.Status, Is.EqualTo(409));
        Assert.That(again.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("duplicate_cue_name"));
    }

    [Test]
    public async Task A_payload_with_duplicate_keys_is_refused()
    {
        var body = $"{{\"name\": \"p\", \"schedule\": {{\"type\": \"once\", \"at\": \"{Future}\"}}, \"callback\": {{\"url\": \"http://127.0.0.1:9/\"}}, \"payload\": {{\"a\": 1, \"a\": 2}}}}";
        var reply = await api.SendRawAsync(HttpMethod.Post, "/v1/cues", test.ApiKey, body);
        Assert.That(reply.Status, Is.EqualTo(400));
        Assert.That(reply.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("invalid_payload"));
    }

    [Test]
    public async Task A_body_that_is_not_json_gets_415()
    {
        var reply = await api.SendRawAsync(HttpMethod.Post, "/v1/cues", test.ApiKey, "name=x", "application/x-www-form-urlencoded");
        Assert.That(reply.Status, Is.EqualTo(415));
        Assert.That(reply.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("unsupported_media_type"));
    }
}
