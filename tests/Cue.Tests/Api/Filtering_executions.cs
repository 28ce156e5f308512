using System.Globalization;
using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// The filters of <c>GET /v1/executions</c> (§5.3) over real executions: five delivered, three failed, due
/// 100 ms apart, with outcomes reported on some. Every filter is read page by page.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Filtering_executions
{
    private static readonly string[] Keys = ["s0", "s1", "s2", "s3", "s4", "f0", "f1", "f2"];

    private CueStack stack = null!;
    private CueApiClient api = null!;
    private CueApiClient.Account owner = null!;
    private CueApiClient.Account stranger = null!;
    private WebhookReceiver ok = null!;
    private WebhookReceiver failing = null!;
    private DeliveredExecutions delivered = null!;
    private string strangersCueId = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
        ok = await WebhookReceiver.StartAsync();
        failing = await WebhookReceiver.StartAsync(500);
        delivered = await DueExecutions.CreateAsync(api, stack,
            [.. Keys.Select((key, i) => new OnceCue(key, key[0] == 's' ? ok.Url : failing.Url, TimeSpan.FromMilliseconds(100 * i)))]);
        owner = delivered.Account;

        async Task Report(string key, object body)
        {
            var reply = await api.PostAsync($"/v1/executions/{Id(key)}/outcome", owner.ApiKey, body);
            Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        }

        await Report("s0", new { success = true, result_type = "report", external_id = "e0" });
        await Report("s1", new { success = true, result_type = "report" });
        await Report("s2", new { success = false, result = "no evidence here", metadata = new { a = 1 } });
        await Report("s3", new { success = true, result_type = "export", summary = "sum" });
        await Report("f0", new { success = false, result_type = "report" });

        stranger = await api.RegisterAsync("test");
        var theirs = await api.PostAsync("/v1/cues", stranger.ApiKey, new
        {
            name = "theirs",
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)) },
            callback = new { url = ok.Url.ToString() },
        });
        strangersCueId = theirs.Json.GetProperty("id").GetString()!;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        api.Dispose();
        await ok.DisposeAsync();
        await failing.DisposeAsync();
    }

    private string Id(string key) => delivered.ByKey[key].GetProperty("id").GetString()!;

    private string CueId(string key) => delivered.ByKey[key].GetProperty("cue_id").GetString()!;

    private static string Wire(DateTimeOffset at) => Timestamps.ToWire(at);

    /// <summary>Reads every page of <paramref name="query"/> and checks the wrapper of each against the expected matches.</summary>
    private async Task AssertPages(string query, int limit, params string[] expected)
    {
        var expectedIds = expected.Select(Id).ToHashSet();
        var seen = new List<JsonElement>();
        var offset = 0;
        do
        {
            var reply = await api.GetAsync($"/v1/executions?{query}&limit={limit}&offset={offset}", owner.ApiKey);
            Assert.That(reply.Status, Is.EqualTo(200), $"{query}: {reply.Json}");
            var page = reply.Json;
            var items = page.GetProperty("executions").EnumerateArray().ToList();
            Assert.Multiple(() =>
            {
                Assert.That(page.GetProperty("total").GetInt32(), Is.EqualTo(expected.Length), query);
                Assert.That(page.GetProperty("limit").GetInt32(), Is.EqualTo(limit), query);
                Assert.That(page.GetProperty("offset").GetInt32(), Is.EqualTo(offset), query);
                Assert.That(items, Has.Count.EqualTo(Math.Min(limit, Math.Max(0, expected.Length - offset))), $"{query} page at {offset}");
                Assert.That(page.GetProperty("has_more").GetBoolean(), Is.EqualTo(offset + limit < expected.Length), $"{query} page at {offset}");
            });
            seen.AddRange(items);
            offset += limit;
        }
        while (offset < expected.Length);

        var ids = seen.Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.That(ids, Is.EquivalentTo(expectedIds), query);
        Assert.That(ids, Is.Unique, $"{query}: an execution appeared on two pages");
        // Newest first. created_at is stored finer than the wire's milliseconds, so equal wire values may come in either id order.
        var created = seen.Select(e => e.GetProperty("created_at").GetString()!).ToList();
        Assert.That(created, Is.Ordered.Descending.Using((IComparer<string>)StringComparer.Ordinal), $"{query}: not newest first");
    }

    private async Task AssertInvalid(string query, string code)
    {
        var reply = await api.GetAsync($"/v1/executions?{query}", owner.ApiKey);
        Assert.That(reply.Status, Is.EqualTo(400), $"{query}: {reply.Json}");
        Assert.Multiple(() =>
        {
            Assert.That(reply.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo(code), query);
            Assert.That(reply.Json.GetProperty("error").GetProperty("status").GetInt32(), Is.EqualTo(400), query);
        });
    }

    [Test]
    public async Task Without_filters_every_execution_of_the_account_is_listed() =>
        await AssertPages("", 3, Keys);

    [Test]
    public async Task Cue_id_matches_that_cues_executions_and_another_accounts_cue_matches_nothing()
    {
        // A once cue has one execution; a second page needs fires, which are not part of this fixture.
        await AssertPages($"cue_id={CueId("s2")}", 1, "s2");
        await AssertPages($"cue_id={CueId("f1")}&status=failed", 1, "f1");
        await AssertPages($"cue_id={CueId("f1")}&status=success", 1);
        await AssertPages($"cue_id={strangersCueId}", 2);
        await AssertPages("cue_id=cue_doesnotexist", 2);
    }

    [Test]
    public async Task Status_and_status_in_match_delivery_states()
    {
        await AssertPages("status=success", 2, "s0", "s1", "s2", "s3", "s4");
        await AssertPages("status=failed", 2, "f0", "f1", "f2");
        await AssertPages("status=pending", 2);
        await AssertPages("status__in=success,failed", 3, Keys);
        await AssertPages("status__in=failed,%20missed,cancelled", 2, "f0", "f1", "f2");
        await AssertPages("status__in=retrying", 2);
    }

    [Test]
    public async Task Outcome_state_matches_the_reported_state_only()
    {
        await AssertPages("outcome_state=reported_success", 2, "s0", "s1", "s3");
        await AssertPages("outcome_state=reported_failure", 1, "s2", "f0");
        await AssertPages("outcome_state=verified_success", 2);
    }

    [Test]
    public async Task Triggered_by_matches_how_the_execution_started()
    {
        await AssertPages("triggered_by=scheduled", 5, Keys);
        await AssertPages("triggered_by=manual_fire", 2);
        await AssertPages("triggered_by=replay", 2);
    }

    [Test]
    public async Task Result_type_matches_exactly()
    {
        await AssertPages("result_type=report", 2, "s0", "s1", "f0");
        await AssertPages("result_type=export", 2, "s3");
        await AssertPages("result_type=Report", 2);
    }

    [Test]
    public async Task Has_evidence_splits_executions_by_any_evidence_field()
    {
        await AssertPages("has_evidence=true", 3, "s0", "s1", "s3", "f0");
        await AssertPages("has_evidence=false", 3, "s2", "s4", "f1", "f2");
        await AssertPages("has_evidence=true&status=success", 2, "s0", "s1", "s3");
    }

    [Test]
    public async Task Since_is_inclusive_and_until_exclusive_on_scheduled_for()
    {
        var due = delivered.DueAt;
        await AssertPages($"since={Wire(due["s2"])}", 2, "s2", "s3", "s4", "f0", "f1", "f2");
        await AssertPages($"until={Wire(due["s2"])}", 1, "s0", "s1");
        await AssertPages($"since={Wire(due["s2"])}&until={Wire(due["f1"])}", 2, "s2", "s3", "s4", "f0");
        await AssertPages($"since={Wire(due["s2"])}&until={Wire(due["s2"])}", 2);
        await AssertPages($"since={Wire(due["s3"])}&until={Wire(due["f2"])}&status=failed", 1, "f0", "f1");
    }

    [Test]
    public async Task Since_and_until_take_every_timestamp_form_of_section_1()
    {
        var local = delivered.DueAt["s3"].ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture);
        var utc = delivered.DueAt["s3"].UtcDateTime;
        string Utc(string format, double addMilliseconds = 0) => utc.AddMilliseconds(addMilliseconds).ToString(format, CultureInfo.InvariantCulture);
        var expected = new[] { "s3", "s4", "f0", "f1", "f2" };
        await AssertPages($"since={local}%2B02:00", 2, expected);
        // An unencoded '+' arrives as a space; the offset is still understood.
        await AssertPages($"since={local}+02:00", 2, expected);
        await AssertPages($"since={Utc("yyyy-MM-dd HH:mm:ss.fff")}", 2, expected);
        await AssertPages($"since={Utc("yyyy-MM-dd'T'HH:mm:ss.fff")}999Z", 2, expected);
        // One millisecond later leaves s3 out.
        await AssertPages($"since={Utc("yyyy-MM-dd'T'HH:mm:ss.fff", 1)}Z", 2, "s4", "f0", "f1", "f2");
    }

    [Test]
    public async Task Unknown_values_and_bad_timestamps_are_invalid_filter()
    {
        await AssertInvalid("status=done", "invalid_filter");
        await AssertInvalid("status=SUCCESS", "invalid_filter");
        await AssertInvalid("status__in=success,done", "invalid_filter");
        await AssertInvalid("status__in=success,,failed", "invalid_filter");
        await AssertInvalid("outcome_state=succeeded", "invalid_filter");
        await AssertInvalid("triggered_by=cron", "invalid_filter");
        await AssertInvalid("has_evidence=yes", "invalid_filter");
        await AssertInvalid("has_evidence=1", "invalid_filter");
        await AssertInvalid("since=yesterday", "invalid_filter");
        await AssertInvalid("since=2026-13-01T00:00:00Z", "invalid_filter");
        await AssertInvalid("until=2026-03-20", "invalid_filter");
        await AssertInvalid("until=2026-03-20T16:00:00%2B15:00", "invalid_filter");
    }

    [Test]
    public async Task Status_with_status_in_is_conflicting_filters()
    {
        await AssertInvalid("status=success&status__in=failed", "conflicting_filters");
        await AssertInvalid("status=success&status__in=success", "conflicting_filters");
    }
}
