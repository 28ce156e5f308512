using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// Contract §1 (IDs) and §5: another account's cue or execution is indistinguishable from an unknown one.
/// Account B calls every id-taking endpoint on account A's resources and gets 404 in the §3 envelope;
/// B's lists and counters show none of A's items; and none of those calls changes anything of A's.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Cross_tenant_isolation
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>A call B makes on one of A's resources; <c>{id}</c> in the route is the resource's id.</summary>
    public sealed record Call(string Method, string Route, string? Body = null, bool Confirm = false)
    {
        public override string ToString() => $"{Method} {Route}";
    }

    /// <summary>Every §5 route that takes a cue id; bulk delete takes it in the body.</summary>
    private static readonly Call[] CueCalls =
    [
        new("GET", "/v1/cues/{id}"),
        new("PATCH", "/v1/cues/{id}", """{"name": "taken-over", "status": "paused", "payload": {"by": "b"}}"""),
        new("DELETE", "/v1/cues/{id}"),
        new("POST", "/v1/cues/{id}/fire", """{"payload_override": {"by": "b"}, "idempotency_key": "b-key"}"""),
        new("POST", "/v1/cues/bulk-delete", """{"ids": ["{id}"]}""", Confirm: true),
    ];

    /// <summary>Every §5 route that takes an execution id, each with a body that would pass validation.</summary>
    private static readonly Call[] ExecutionCalls =
    [
        new("GET", "/v1/executions/{id}"),
        new("GET", "/v1/executions/{id}/attempts"),
        new("POST", "/v1/executions/{id}/outcome", """{"success": false, "error": "reported by b"}"""),
        new("POST", "/v1/executions/{id}/replay"),
        new("POST", "/v1/executions/{id}/verify", """{"valid": false, "reason": "b says no"}"""),
        new("POST", "/v1/executions/{id}/verification-pending"),
        new("PATCH", "/v1/executions/{id}/evidence", """{"external_id": "b-evidence", "summary": "by b"}"""),
    ];

    private static readonly string[] CueResources = ["recurring cue", "once cue"];
    private static readonly string[] ExecutionResources = ["delivered execution", "pending execution"];

    private CueStack stack = null!;
    private CueApiClient api = null!;
    private WebhookReceiver receiver = null!;
    private CueApiClient.Account a = null!;
    private CueApiClient.Account b = null!;
    private readonly Dictionary<string, string> ids = [];
    private string bCue = "";
    private string bExecution = "";
    private Dictionary<string, string> before = [];

    public static IEnumerable<TestCaseData> Matrix()
    {
        foreach (var call in CueCalls)
        {
            foreach (var resource in CueResources)
            {
                yield return new TestCaseData(call, resource).SetName($"B is refused {call} on A's {resource}");
            }
        }

        foreach (var call in ExecutionCalls)
        {
            foreach (var resource in ExecutionResources)
            {
                yield return new TestCaseData(call, resource).SetName($"B is refused {call} on A's {resource}");
            }
        }
    }

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
        receiver = await WebhookReceiver.StartAsync();
        a = await api.RegisterAsync("test");
        b = await api.RegisterAsync("test");

        ids["recurring cue"] = await CreateCueAsync(a, new { type = "recurring", cron = "0 0 1 1 *", timezone = "Europe/Berlin" });
        ids["once cue"] = await CreateCueAsync(a, new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1)) });

        // Delivered: a fire of the recurring cue that reached the receiver, with an outcome A reported,
        // so a verify or evidence call that slipped through would visibly change it.
        var delivered = await FireAsync(a, ids["recurring cue"], null);
        var execution = await api.PollAsync($"/v1/executions/{delivered}", a.ApiKey, j => j.GetProperty("status").GetString() == "success", Patience);
        Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("success"), stack.Logs());
        var outcome = await api.PostAsync($"/v1/executions/{delivered}/outcome", a.ApiKey, new { success = true, result = "done by a" });
        Assert.That(outcome.Status, Is.EqualTo(200), outcome.Json.ToString());
        ids["delivered execution"] = delivered;
        ids["pending execution"] = await FireAsync(a, ids["once cue"], Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)));

        // B has one cue and one execution of its own, so its lists and counters are not trivially empty.
        bCue = await CreateCueAsync(b, new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1)) });
        bExecution = await FireAsync(b, bCue, Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)));

        // last_run and run_count follow the delivery: wait until they show it before taking the snapshot.
        var cue = await api.PollAsync($"/v1/cues/{ids["recurring cue"]}", a.ApiKey, j => j.GetProperty("run_count").GetInt32() == 1, Patience);
        Assert.That(cue.GetProperty("run_count").GetInt32(), Is.EqualTo(1), stack.Logs());
        before = await SnapshotAsync();
    }

    [OneTimeTearDown]
    public async Task DisposeAsync()
    {
        // Deleting the cues cancels the hour-ahead executions, so nothing of this fixture stays due.
        foreach (var (key, id) in new[] { (a.ApiKey, ids["recurring cue"]), (a.ApiKey, ids["once cue"]), (b.ApiKey, bCue) })
        {
            await api.SendAsync(HttpMethod.Delete, $"/v1/cues/{id}", key, null);
        }

        await receiver.DisposeAsync();
        api.Dispose();
    }

    [TestCaseSource(nameof(Matrix))]
    public async Task B_is_refused(Call call, string resource)
    {
        var id = ids[resource];
        var reply = await SendAsync(call, id, b.ApiKey);
        if (call.Route == "/v1/cues/bulk-delete")
        {
            // Bulk delete answers 200 and reports another account's id as not found.
            Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
            Assert.That(reply.Json.GetProperty("deleted").EnumerateArray(), Is.Empty);
            Assert.That(reply.Json.GetProperty("skipped").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { id }));
            return;
        }

        var code = call.Route.StartsWith("/v1/cues", StringComparison.Ordinal) ? "cue_not_found" : "execution_not_found";
        var error = await ErrorEnvelopeAssert.IsAsync(reply.Response, 404, code);
        Assert.That(error.TryGetProperty("details", out _), Is.False, "a 404 carries no details");

        // The same call with an id nobody owns answers exactly alike, so B learns nothing about A's id.
        var unknown = call.Route.StartsWith("/v1/cues", StringComparison.Ordinal) ? "cue_000000000000" : Guid.NewGuid().ToString("D");
        var control = await SendAsync(call, unknown, b.ApiKey);
        Assert.That(control.Status, Is.EqualTo(404));
        Assert.That(control.Code(), Is.EqualTo(code));
        Assert.That(control.Json.GetProperty("error").GetProperty("message").GetString(),
            Is.EqualTo(error.GetProperty("message").GetString()!.Replace(id, unknown, StringComparison.Ordinal)));
    }

    [Test]
    public async Task A_bulk_delete_mixing_both_accounts_ids_deletes_only_the_callers_own()
    {
        var mine = await CreateCueAsync(b, new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1)) });
        var reply = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Post, "/v1/cues/bulk-delete", b.ApiKey,
            JsonSerializer.Serialize(new { ids = new[] { ids["recurring cue"], mine, ids["once cue"] } }), confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.That(reply.Json.GetProperty("deleted").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { mine }));
        Assert.That(reply.Json.GetProperty("skipped").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { ids["recurring cue"], ids["once cue"] }));
        Assert.That((await api.GetAsync($"/v1/cues/{mine}", b.ApiKey)).Status, Is.EqualTo(404));
        foreach (var resource in CueResources)
        {
            Assert.That((await api.GetAsync($"/v1/cues/{ids[resource]}", a.ApiKey)).Status, Is.EqualTo(200), resource);
        }
    }

    [Test]
    public async Task Bs_lists_show_none_of_As_items()
    {
        var cues = await api.GetAsync("/v1/cues", b.ApiKey);
        Assert.That(cues.Status, Is.EqualTo(200));
        Assert.That(Ids(cues.Json, "cues"), Is.EqualTo(new[] { bCue }));
        Assert.That(cues.Json.GetProperty("total").GetInt32(), Is.EqualTo(1));

        var active = await api.GetAsync("/v1/cues?status=active", b.ApiKey);
        Assert.That(Ids(active.Json, "cues"), Is.EqualTo(new[] { bCue }));

        var executions = await api.GetAsync("/v1/executions", b.ApiKey);
        Assert.That(executions.Status, Is.EqualTo(200));
        Assert.That(Ids(executions.Json, "executions"), Is.EqualTo(new[] { bExecution }));
        Assert.That(executions.Json.GetProperty("total").GetInt32(), Is.EqualTo(1));

        foreach (var query in new[]
                 {
                     $"cue_id={ids["recurring cue"]}",
                     $"cue_id={ids["once cue"]}",
                     "status=success",
                     "outcome_state=reported_success",
                     "triggered_by=manual_fire&status=success",
                     "has_evidence=false&outcome_state=reported_success",
                 })
        {
            var filtered = await api.GetAsync("/v1/executions?" + query, b.ApiKey);
            Assert.That(filtered.Status, Is.EqualTo(200), query);
            Assert.That(Ids(filtered.Json, "executions"), Is.Empty, query);
            Assert.That(filtered.Json.GetProperty("total").GetInt32(), Is.Zero, query);
        }

        // The same filters with A's key do find A's items: the empty answers above are not empty for another reason.
        var own = await api.GetAsync($"/v1/executions?cue_id={ids["recurring cue"]}", a.ApiKey);
        Assert.That(Ids(own.Json, "executions"), Is.EqualTo(new[] { ids["delivered execution"] }));
        var ownSuccess = await api.GetAsync("/v1/executions?outcome_state=reported_success", a.ApiKey);
        Assert.That(Ids(ownSuccess.Json, "executions"), Is.EqualTo(new[] { ids["delivered execution"] }));
    }

    [Test]
    public async Task Bs_me_and_usage_count_none_of_As_items()
    {
        var me = await api.GetAsync("/v1/auth/me", b.ApiKey);
        Assert.That(me.Status, Is.EqualTo(200));
        Assert.Multiple(() =>
        {
            Assert.That(me.Json.GetProperty("email").GetString(), Is.EqualTo(b.Email));
            Assert.That(me.Json.GetProperty("active_cues").GetInt32(), Is.EqualTo(1));
            Assert.That(me.Json.GetProperty("executions_this_month").GetInt32(), Is.EqualTo(1));
        });

        var usage = await api.GetAsync("/v1/usage", b.ApiKey);
        Assert.That(usage.Status, Is.EqualTo(200));
        var u = usage.Json;
        Assert.Multiple(() =>
        {
            Assert.That(u.GetProperty("cues").GetProperty("active").GetInt32(), Is.EqualTo(1));
            Assert.That(u.GetProperty("cues").GetProperty("used").GetInt32(), Is.EqualTo(1));
            Assert.That(u.GetProperty("executions").GetProperty("used").GetInt32(), Is.EqualTo(1));
            Assert.That(u.GetProperty("outcomes").GetProperty("reported").GetInt32(), Is.Zero);
            Assert.That(u.GetProperty("outcomes").GetProperty("succeeded").GetInt32(), Is.Zero);
            Assert.That(u.GetProperty("outcomes").GetProperty("failed").GetInt32(), Is.Zero);
        });

        // A's own figures do include them.
        var aMe = await api.GetAsync("/v1/auth/me", a.ApiKey);
        var aUsage = await api.GetAsync("/v1/usage", a.ApiKey);
        Assert.Multiple(() =>
        {
            Assert.That(aMe.Json.GetProperty("active_cues").GetInt32(), Is.EqualTo(2));
            Assert.That(aMe.Json.GetProperty("executions_this_month").GetInt32(), Is.EqualTo(2));
            Assert.That(aUsage.Json.GetProperty("outcomes").GetProperty("reported").GetInt32(), Is.EqualTo(1));
        });
    }

    /// <summary>
    /// Runs the whole matrix itself (so it holds in any test order, or alone), then reads A's resources again:
    /// every byte is as before. None of these fields changes with time alone (the recurring cue's
    /// next_run is next 1 January, stable for the test).
    /// </summary>
    [Test]
    public async Task Bs_calls_change_nothing_of_As()
    {
        foreach (var data in Matrix())
        {
            var (call, resource) = ((Call)data.Arguments[0]!, (string)data.Arguments[1]!);
            var reply = await SendAsync(call, ids[resource], b.ApiKey);
            Assert.That(reply.Status, Is.EqualTo(call.Route == "/v1/cues/bulk-delete" ? 200 : 404), $"{call} on {resource}");
        }

        // Give anything B's calls might have set off (a delivery, a projection) the time to show.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var after = await SnapshotAsync();
        Assert.That(after.Keys, Is.EqualTo(before.Keys));
        foreach (var (path, body) in before)
        {
            Assert.That(after[path], Is.EqualTo(body), path);
        }

        Assert.That(receiver.Received, Has.Count.EqualTo(1), "only A's own fire was delivered");
    }

    private async Task<Dictionary<string, string>> SnapshotAsync()
    {
        var paths = new List<string>
        {
            "/v1/cues",
            "/v1/executions",
            $"/v1/executions?cue_id={ids["recurring cue"]}",
        };
        paths.AddRange(CueResources.Select(r => $"/v1/cues/{ids[r]}"));
        paths.AddRange(ExecutionResources.SelectMany(r => new[] { $"/v1/executions/{ids[r]}", $"/v1/executions/{ids[r]}/attempts" }));

        var snapshot = new Dictionary<string, string>();
        foreach (var path in paths)
        {
            var reply = await api.GetAsync(path, a.ApiKey);
            Assert.That(reply.Status, Is.EqualTo(200), path);
            snapshot[path] = await reply.Response.Content.ReadAsStringAsync();
        }

        return snapshot;
    }

    private async Task<CueApiClient.Reply> SendAsync(Call call, string id, string key) =>
        await AccountCalls.SendAsync(stack.Api.BaseAddress, new HttpMethod(call.Method), call.Route.Replace("{id}", id, StringComparison.Ordinal), key,
            call.Body?.Replace("{id}", id, StringComparison.Ordinal), confirm: call.Confirm);

    private async Task<string> CreateCueAsync(CueApiClient.Account owner, object schedule)
    {
        var created = await api.PostAsync("/v1/cues", owner.ApiKey, new
        {
            name = "iso-" + Guid.NewGuid().ToString("N")[..10],
            schedule,
            callback = new { url = receiver.Url.ToString() },
            payload = new { owner = owner.Email },
            retry = new { max_attempts = 1 },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        return created.Json.GetProperty("id").GetString()!;
    }

    private async Task<string> FireAsync(CueApiClient.Account owner, string cueId, string? sendAt)
    {
        var fired = await api.PostAsync($"/v1/cues/{cueId}/fire", owner.ApiKey, sendAt is null ? new { } : (object)new { send_at = sendAt });
        Assert.That(fired.Status, Is.EqualTo(200), fired.Json.ToString());
        return fired.Json.GetProperty("id").GetString()!;
    }

    private static List<string> Ids(JsonElement list, string items) =>
        [.. list.GetProperty(items).EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];
}
