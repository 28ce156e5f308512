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
    private CueStack stack = null!;
    private TenantPair pair = null!;
    private WebhookReceiver receiver = null!;
    private Dictionary<string, string> before = [];

    public static IEnumerable<TestCaseData> Matrix() =>
        TenantPair.Cases().Select(c => new TestCaseData(c.Call, c.Resource).SetName($"B is refused {c.Call} on A's {c.Resource}"));

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        receiver = await WebhookReceiver.StartAsync();
        pair = await TenantPair.CreateAsync(stack.Api.BaseAddress, receiver, stack.Logs);
        before = await pair.SnapshotAsync();
    }

    [OneTimeTearDown]
    public async Task DisposeAsync()
    {
        await pair.DeleteCuesAsync();
        await receiver.DisposeAsync();
        pair.Dispose();
    }

    [TestCaseSource(nameof(Matrix))]
    public async Task B_is_refused(TenantPair.Call call, string resource)
    {
        var id = pair.Ids[resource];
        var reply = await SendAsync(call, id, pair.B.ApiKey);
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
        var control = await SendAsync(call, unknown, pair.B.ApiKey);
        Assert.That(control.Status, Is.EqualTo(404));
        Assert.That(control.Code(), Is.EqualTo(code));
        Assert.That(control.Json.GetProperty("error").GetProperty("message").GetString(),
            Is.EqualTo(error.GetProperty("message").GetString()!.Replace(id, unknown, StringComparison.Ordinal)));
    }

    [Test]
    public async Task A_bulk_delete_mixing_both_accounts_ids_deletes_only_the_callers_own()
    {
        var mine = await CreateCueAsync(pair.B, new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1)) });
        var reply = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Post, "/v1/cues/bulk-delete", pair.B.ApiKey,
            JsonSerializer.Serialize(new { ids = new[] { pair.Ids["recurring cue"], mine, pair.Ids["once cue"] } }), confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.That(reply.Json.GetProperty("deleted").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { mine }));
        Assert.That(reply.Json.GetProperty("skipped").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { pair.Ids["recurring cue"], pair.Ids["once cue"] }));
        Assert.That((await pair.Api.GetAsync($"/v1/cues/{mine}", pair.B.ApiKey)).Status, Is.EqualTo(404));
        foreach (var resource in TenantPair.CueResources)
        {
            Assert.That((await pair.Api.GetAsync($"/v1/cues/{pair.Ids[resource]}", pair.A.ApiKey)).Status, Is.EqualTo(200), resource);
        }
    }

    [Test]
    public async Task Bs_lists_show_none_of_As_items()
    {
        var cues = await pair.Api.GetAsync("/v1/cues", pair.B.ApiKey);
        Assert.That(cues.Status, Is.EqualTo(200));
        Assert.That(Ids(cues.Json, "cues"), Is.EqualTo(new[] { pair.BCue }));
        Assert.That(cues.Json.GetProperty("total").GetInt32(), Is.EqualTo(1));

        var active = await pair.Api.GetAsync("/v1/cues?status=active", pair.B.ApiKey);
        Assert.That(Ids(active.Json, "cues"), Is.EqualTo(new[] { pair.BCue }));

        var executions = await pair.Api.GetAsync("/v1/executions", pair.B.ApiKey);
        Assert.That(executions.Status, Is.EqualTo(200));
        Assert.That(Ids(executions.Json, "executions"), Is.EqualTo(new[] { pair.BExecution }));
        Assert.That(executions.Json.GetProperty("total").GetInt32(), Is.EqualTo(1));

        foreach (var query in new[]
                 {
                     $"cue_id={pair.Ids["recurring cue"]}",
                     $"cue_id={pair.Ids["once cue"]}",
                     "status=success",
                     "outcome_state=reported_success",
                     "triggered_by=manual_fire&status=success",
                     "has_evidence=false&outcome_state=reported_success",
                 })
        {
            var filtered = await pair.Api.GetAsync("/v1/executions?" + query, pair.B.ApiKey);
            Assert.That(filtered.Status, Is.EqualTo(200), query);
            Assert.That(Ids(filtered.Json, "executions"), Is.Empty, query);
            Assert.That(filtered.Json.GetProperty("total").GetInt32(), Is.Zero, query);
        }

        // The same filters with A's key do find A's items: the empty answers above are not empty for another reason.
        var own = await pair.Api.GetAsync($"/v1/executions?cue_id={pair.Ids["recurring cue"]}", pair.A.ApiKey);
        Assert.That(Ids(own.Json, "executions"), Is.EqualTo(new[] { pair.Ids["delivered execution"] }));
        var ownSuccess = await pair.Api.GetAsync("/v1/executions?outcome_state=reported_success", pair.A.ApiKey);
        Assert.That(Ids(ownSuccess.Json, "executions"), Is.EqualTo(new[] { pair.Ids["delivered execution"] }));
    }

    [Test]
    public async Task Bs_me_and_usage_count_none_of_As_items()
    {
        var me = await pair.Api.GetAsync("/v1/auth/me", pair.B.ApiKey);
        Assert.That(me.Status, Is.EqualTo(200));
        Assert.Multiple(() =>
        {
            Assert.That(me.Json.GetProperty("email").GetString(), Is.EqualTo(pair.B.Email));
            Assert.That(me.Json.GetProperty("active_cues").GetInt32(), Is.EqualTo(1));
            Assert.That(me.Json.GetProperty("executions_this_month").GetInt32(), Is.EqualTo(1));
        });

        var usage = await pair.Api.GetAsync("/v1/usage", pair.B.ApiKey);
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
        var aMe = await pair.Api.GetAsync("/v1/auth/me", pair.A.ApiKey);
        var aUsage = await pair.Api.GetAsync("/v1/usage", pair.A.ApiKey);
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
            var (call, resource) = ((TenantPair.Call)data.Arguments[0]!, (string)data.Arguments[1]!);
            var reply = await SendAsync(call, pair.Ids[resource], pair.B.ApiKey);
            Assert.That(reply.Status, Is.EqualTo(call.Route == "/v1/cues/bulk-delete" ? 200 : 404), $"{call} on {resource}");
        }

        // Give anything B's calls might have set off (a delivery, a projection) the time to show.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var after = await pair.SnapshotAsync();
        Assert.That(after.Keys, Is.EqualTo(before.Keys));
        foreach (var (path, body) in before)
        {
            Assert.That(after[path], Is.EqualTo(body), path);
        }

        Assert.That(receiver.Received, Has.Count.EqualTo(1), "only A's own fire was delivered");
    }

    private Task<CueApiClient.Reply> SendAsync(TenantPair.Call call, string id, string key) => pair.SendAsync(call, id, key);

    private Task<string> CreateCueAsync(CueApiClient.Account owner, object schedule) => pair.CreateCueAsync(owner, schedule);

    private static List<string> Ids(JsonElement list, string items) => TenantPair.IdsIn(list, items);
}
