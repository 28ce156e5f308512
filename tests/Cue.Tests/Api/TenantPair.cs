using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// Two accounts for the cross-tenant matrix: A owns a recurring cue, a once cue, a delivered execution with an
/// outcome and a pending one; B owns one cue and one execution. Shared by <see cref="Cross_tenant_isolation"/> and
/// the torture run that repeats the matrix under load, so both judge the same calls the same way.
/// </summary>
public sealed class TenantPair : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>A call B makes on one of A's resources; <c>{id}</c> in the route is the resource's id.</summary>
    public sealed record Call(string Method, string Route, string? Body = null, bool Confirm = false)
    {
        public override string ToString() => $"{Method} {Route}";
    }

    /// <summary>Every §5 route that takes a cue id; bulk delete takes it in the body.</summary>
    public static readonly Call[] CueCalls =
    [
        new("GET", "/v1/cues/{id}"),
        new("PATCH", "/v1/cues/{id}", """{"name": "taken-over", "status": "paused", "payload": {"by": "b"}}"""),
        new("DELETE", "/v1/cues/{id}"),
        new("POST", "/v1/cues/{id}/fire", """{"payload_override": {"by": "b"}, "idempotency_key": "b-key"}"""),
        new("POST", "/v1/cues/bulk-delete", """{"ids": ["{id}"]}""", Confirm: true),
    ];

    /// <summary>Every §5 route that takes an execution id, each with a body that would pass validation.</summary>
    public static readonly Call[] ExecutionCalls =
    [
        new("GET", "/v1/executions/{id}"),
        new("GET", "/v1/executions/{id}/attempts"),
        new("POST", "/v1/executions/{id}/outcome", """{"success": false, "error": "reported by b"}"""),
        new("POST", "/v1/executions/{id}/replay"),
        new("POST", "/v1/executions/{id}/verify", """{"valid": false, "reason": "b says no"}"""),
        new("POST", "/v1/executions/{id}/verification-pending"),
        new("PATCH", "/v1/executions/{id}/evidence", """{"external_id": "b-evidence", "summary": "by b"}"""),
    ];

    public static readonly string[] CueResources = ["recurring cue", "once cue"];
    public static readonly string[] ExecutionResources = ["delivered execution", "pending execution"];

    private TenantPair(Uri baseAddress, WebhookReceiver receiver, CueApiClient.Account a, CueApiClient.Account b)
    {
        BaseAddress = baseAddress;
        Api = new CueApiClient(baseAddress);
        Receiver = receiver;
        A = a;
        B = b;
    }

    public Uri BaseAddress { get; }

    public CueApiClient Api { get; }

    /// <summary>Where A's and B's cues deliver: only A's own fire may ever arrive.</summary>
    public WebhookReceiver Receiver { get; }

    public CueApiClient.Account A { get; }

    public CueApiClient.Account B { get; }

    /// <summary>A's resources by name (<see cref="CueResources"/>, <see cref="ExecutionResources"/>).</summary>
    public Dictionary<string, string> Ids { get; } = [];

    public string BCue { get; private set; } = "";

    public string BExecution { get; private set; } = "";

    /// <summary>Every (call, resource) of the matrix.</summary>
    public static IEnumerable<(Call Call, string Resource)> Cases() =>
        CueCalls.SelectMany(c => CueResources.Select(r => (c, r)))
            .Concat(ExecutionCalls.SelectMany(c => ExecutionResources.Select(r => (c, r))));

    /// <param name="logs">The services' log tails, for a failed set-up.</param>
    public static async Task<TenantPair> CreateAsync(Uri baseAddress, WebhookReceiver receiver, Func<string> logs)
    {
        using var registrar = new CueApiClient(baseAddress);
        var pair = new TenantPair(baseAddress, receiver, await registrar.RegisterAsync("test"), await registrar.RegisterAsync("test"));
        var api = pair.Api;
        pair.Ids["recurring cue"] = await pair.CreateCueAsync(pair.A, new { type = "recurring", cron = "0 0 1 1 *", timezone = "Europe/Berlin" });
        pair.Ids["once cue"] = await pair.CreateCueAsync(pair.A, new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1)) });

        // Delivered: a fire of the recurring cue that reached the receiver, with an outcome A reported,
        // so a verify or evidence call that slipped through would visibly change it.
        var delivered = await pair.FireAsync(pair.A, pair.Ids["recurring cue"], null);
        var execution = await api.PollAsync($"/v1/executions/{delivered}", pair.A.ApiKey, j => j.GetProperty("status").GetString() == "success", Patience);
        Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("success"), logs());
        var outcome = await api.PostAsync($"/v1/executions/{delivered}/outcome", pair.A.ApiKey, new { success = true, result = "done by a" });
        Assert.That(outcome.Status, Is.EqualTo(200), outcome.Json.ToString());
        pair.Ids["delivered execution"] = delivered;
        pair.Ids["pending execution"] = await pair.FireAsync(pair.A, pair.Ids["once cue"], Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)));

        // B has one cue and one execution of its own, so its lists and counters are not trivially empty.
        pair.BCue = await pair.CreateCueAsync(pair.B, new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1)) });
        pair.BExecution = await pair.FireAsync(pair.B, pair.BCue, Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)));

        // last_run and run_count follow the delivery: wait until they show it before anyone takes a snapshot.
        var cue = await api.PollAsync($"/v1/cues/{pair.Ids["recurring cue"]}", pair.A.ApiKey, j => j.GetProperty("run_count").GetInt32() == 1, Patience);
        Assert.That(cue.GetProperty("run_count").GetInt32(), Is.EqualTo(1), logs());
        return pair;
    }

    /// <summary>Sends <paramref name="call"/> on <paramref name="id"/> with <paramref name="key"/>.</summary>
    public async Task<CueApiClient.Reply> SendAsync(Call call, string id, string key) =>
        await AccountCalls.SendAsync(BaseAddress, new HttpMethod(call.Method), call.Route.Replace("{id}", id, StringComparison.Ordinal), key,
            call.Body?.Replace("{id}", id, StringComparison.Ordinal), confirm: call.Confirm);

    /// <summary>
    /// B makes <paramref name="call"/> on A's <paramref name="resource"/>: empty when it is refused as an unknown
    /// id would be (404 with no details, or bulk delete's skipped), else what leaked.
    /// </summary>
    public async Task<List<string>> RefusalProblemsAsync(Call call, string resource)
    {
        var id = Ids[resource];
        var reply = await SendAsync(call, id, B.ApiKey);
        if (call.Route == "/v1/cues/bulk-delete")
        {
            var deleted = reply.Status == 200 ? reply.Json.GetProperty("deleted").GetArrayLength() : -1;
            var skipped = reply.Status == 200 ? reply.Json.GetProperty("skipped").EnumerateArray().Select(s => s.GetString()).ToList() : [];
            return reply.Status == 200 && deleted == 0 && skipped.SequenceEqual([id]) ? [] : [$"{call} on {resource}: {reply.Status} {reply.Json}"];
        }

        var code = call.Route.StartsWith("/v1/cues", StringComparison.Ordinal) ? "cue_not_found" : "execution_not_found";
        return reply.Status == 404 && reply.Json.ValueKind == JsonValueKind.Object && reply.Code() == code
               && !reply.Json.GetProperty("error").TryGetProperty("details", out _)
            ? []
            : [$"{call} on {resource}: {reply.Status} {reply.Json}"];
    }

    /// <summary>B's lists, filters and counters: empty when they show none of A's items.</summary>
    public async Task<List<string>> ListProblemsAsync()
    {
        var problems = new List<string>();
        void Expect(bool condition, string what)
        {
            if (!condition)
            {
                problems.Add(what);
            }
        }

        var cues = await Api.GetAsync("/v1/cues", B.ApiKey);
        Expect(cues.Status == 200 && IdsIn(cues.Json, "cues").SequenceEqual([BCue]) && cues.Json.GetProperty("total").GetInt32() == 1, $"B's cues: {cues.Json}");
        var executions = await Api.GetAsync("/v1/executions", B.ApiKey);
        Expect(executions.Status == 200 && IdsIn(executions.Json, "executions").SequenceEqual([BExecution]), $"B's executions: {executions.Json}");
        foreach (var query in new[] { $"cue_id={Ids["recurring cue"]}", $"cue_id={Ids["once cue"]}", "outcome_state=reported_success" })
        {
            var filtered = await Api.GetAsync("/v1/executions?" + query, B.ApiKey);
            Expect(filtered.Status == 200 && filtered.Json.GetProperty("total").GetInt32() == 0, $"B's executions?{query}: {filtered.Json}");
        }

        var me = await Api.GetAsync("/v1/auth/me", B.ApiKey);
        Expect(me.Status == 200 && me.Json.GetProperty("active_cues").GetInt32() == 1 && me.Json.GetProperty("executions_this_month").GetInt32() == 1,
            $"B's /v1/auth/me: {me.Json}");
        return problems;
    }

    /// <summary>A's resources as A reads them; none of these bytes changes with time alone.</summary>
    public async Task<Dictionary<string, string>> SnapshotAsync()
    {
        var paths = new List<string>
        {
            "/v1/cues",
            "/v1/executions",
            $"/v1/executions?cue_id={Ids["recurring cue"]}",
        };
        paths.AddRange(CueResources.Select(r => $"/v1/cues/{Ids[r]}"));
        paths.AddRange(ExecutionResources.SelectMany(r => new[] { $"/v1/executions/{Ids[r]}", $"/v1/executions/{Ids[r]}/attempts" }));

        var snapshot = new Dictionary<string, string>();
        foreach (var path in paths)
        {
            var reply = await Api.GetAsync(path, A.ApiKey);
            Assert.That(reply.Status, Is.EqualTo(200), path);
            snapshot[path] = await reply.Response.Content.ReadAsStringAsync();
        }

        return snapshot;
    }

    /// <summary>Deleting the cues cancels the hour-ahead executions, so nothing of the pair stays due.</summary>
    public async Task DeleteCuesAsync()
    {
        foreach (var (key, id) in new[] { (A.ApiKey, Ids["recurring cue"]), (A.ApiKey, Ids["once cue"]), (B.ApiKey, BCue) })
        {
            await Api.SendAsync(HttpMethod.Delete, $"/v1/cues/{id}", key, null);
        }
    }

    public async Task<string> CreateCueAsync(CueApiClient.Account owner, object schedule)
    {
        var created = await Api.PostAsync("/v1/cues", owner.ApiKey, new
        {
            name = "iso-" + Guid.NewGuid().ToString("N")[..10],
            schedule,
            callback = new { url = Receiver.Url.ToString() },
            payload = new { owner = owner.Email },
            retry = new { max_attempts = 1 },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        return created.Json.GetProperty("id").GetString()!;
    }

    public void Dispose() => Api.Dispose();

    public static List<string> IdsIn(JsonElement list, string items) =>
        [.. list.GetProperty(items).EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];

    private async Task<string> FireAsync(CueApiClient.Account owner, string cueId, string? sendAt)
    {
        var fired = await Api.PostAsync($"/v1/cues/{cueId}/fire", owner.ApiKey, sendAt is null ? new { } : (object)new { send_at = sendAt });
        Assert.That(fired.Status, Is.EqualTo(200), fired.Json.ToString());
        return fired.Json.GetProperty("id").GetString()!;
    }
}
