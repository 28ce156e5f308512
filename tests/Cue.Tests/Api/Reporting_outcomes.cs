using System.Text.Json;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// §5.3 outcome, verify, verification-pending and evidence, and §9.5's outcome in the response, on real
/// executions. Each test gets executions of its own (an outcome is written once), all made in one set-up.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Reporting_outcomes
{
    private CueStack stack = null!;
    private CueApiClient api = null!;
    private CueApiClient.Account owner = null!;
    private CueApiClient.Account stranger = null!;
    private WebhookReceiver plain = null!;
    private WebhookReceiver reporting = null!;
    private WebhookReceiver failing = null!;
    private IReadOnlyDictionary<string, JsonElement> executions = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
        stranger = await api.RegisterAsync("test");
        plain = await WebhookReceiver.StartAsync();
        reporting = await WebhookReceiver.StartAsync();
        reporting.SuccessBody = """{"success": false, "result": "partial", "error": "disk full", "extra": 1}""";
        failing = await WebhookReceiver.StartAsync(500);

        OnceCue Cue(string key, string mode = "none", WebhookReceiver? to = null) => new(key, (to ?? plain).Url, VerificationMode: mode);
        var delivered = await DueExecutions.CreateAsync(api, stack,
        [
            Cue("full"), Cue("twice"), Cue("race"), Cue("untouched"), Cue("none-failure"), Cue("manual", "manual"),
            Cue("ext-given", "require_external_id"), Cue("ext-missing", "require_external_id"), Cue("ext-failure", "require_external_id"),
            Cue("url-given", "require_result_url"), Cue("url-missing", "require_result_url"),
            Cue("art-given", "require_artifacts"), Cue("art-empty", "require_artifacts"),
            Cue("verify"), Cue("pending"), Cue("manual-verdict", "require_external_id"),
            Cue("from-response", to: reporting), Cue("failed-delivery", to: failing),
        ]);
        owner = delivered.Account;
        executions = delivered.ByKey;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        api.Dispose();
        await plain.DisposeAsync();
        await reporting.DisposeAsync();
        await failing.DisposeAsync();
    }

    private string Id(string key) => executions[key].GetProperty("id").GetString()!;

    private Task<CueApiClient.Reply> Report(string key, object body, string? apiKey = null) =>
        api.PostAsync($"/v1/executions/{Id(key)}/outcome", apiKey ?? owner.ApiKey, body);

    private Task<CueApiClient.Reply> Verify(string key, object? body) => api.PostAsync($"/v1/executions/{Id(key)}/verify", owner.ApiKey, body);

    private Task<CueApiClient.Reply> MarkPending(string key) => api.PostAsync($"/v1/executions/{Id(key)}/verification-pending", owner.ApiKey, null);

    private Task<CueApiClient.Reply> AddEvidence(string key, object body) =>
        api.SendAsync(HttpMethod.Patch, $"/v1/executions/{Id(key)}/evidence", owner.ApiKey, body);

    private async Task<JsonElement> Execution(string key)
    {
        var reply = await api.GetAsync($"/v1/executions/{Id(key)}", owner.ApiKey);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        return reply.Json;
    }

    private static string[] Names(JsonElement json) => [.. json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    private static void AssertError(CueApiClient.Reply reply, int status, string code, string? field = null)
    {
        Assert.That(reply.Status, Is.EqualTo(status), reply.Json.ToString());
        var error = reply.Json.GetProperty("error");
        Assert.Multiple(() =>
        {
            Assert.That(error.GetProperty("code").GetString(), Is.EqualTo(code));
            Assert.That(error.GetProperty("status").GetInt32(), Is.EqualTo(status));
            if (field is not null)
            {
                Assert.That(error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("field").GetString()), Does.Contain(field));
            }
        });
    }

    private static (string? State, string? Validation) States(JsonElement execution) =>
        (execution.GetProperty("outcome_state").GetString(),
         execution.GetProperty("outcome").ValueKind == JsonValueKind.Null ? null : execution.GetProperty("outcome").GetProperty("validation_state").GetString());

    [Test]
    public async Task A_report_answers_the_contract_fields_and_shows_on_the_execution()
    {
        var before = await Execution("full");
        var reply = await Report("full", new
        {
            success = true,
            result = "42 rows",
            error = (string?)null,
            metadata = new { rows = 42, tags = new[] { "a", "b" }, ratio = 0.5 },
            external_id = "job-7",
            result_url = "https://reports.example.com/r/7?x=1",
            result_ref = "s3://bucket/r7",
            result_type = "report",
            summary = "nightly export",
            artifacts = new object[] { "a.csv", new { name = "b.csv", bytes = 10 } },
        });
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(Names(reply.Json), Is.EqualTo(new[] { "execution_id", "outcome_recorded", "outcome_state" }));
            Assert.That(reply.Json.GetProperty("execution_id").GetString(), Is.EqualTo(Id("full")));
            Assert.That(reply.Json.GetProperty("outcome_recorded").GetBoolean(), Is.True);
            Assert.That(reply.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("reported_success"));
        });

        var execution = await Execution("full");
        var outcome = execution.GetProperty("outcome");
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo(before.GetProperty("status").GetString()), "an outcome never changes status");
            Assert.That(execution.GetProperty("outcome_state").GetString(), Is.EqualTo("reported_success"));
            Assert.That(Names(outcome), Is.EqualTo(new[]
            {
                "artifacts", "error", "external_id", "metadata", "recorded_at", "result", "result_ref", "result_type", "result_url", "success",
                "summary", "validation_state",
            }));
            Assert.That(outcome.GetProperty("success").GetBoolean(), Is.True);
            Assert.That(outcome.GetProperty("result").GetString(), Is.EqualTo("42 rows"));
            Assert.That(outcome.GetProperty("error").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(outcome.GetProperty("metadata").GetProperty("rows").GetInt32(), Is.EqualTo(42));
            Assert.That(outcome.GetProperty("metadata").GetProperty("ratio").GetDouble(), Is.EqualTo(0.5));
            Assert.That(outcome.GetProperty("metadata").GetProperty("tags")[1].GetString(), Is.EqualTo("b"));
            Assert.That(outcome.GetProperty("external_id").GetString(), Is.EqualTo("job-7"));
            Assert.That(outcome.GetProperty("result_url").GetString(), Is.EqualTo("https://reports.example.com/r/7?x=1"));
            Assert.That(outcome.GetProperty("result_ref").GetString(), Is.EqualTo("s3://bucket/r7"));
            Assert.That(outcome.GetProperty("result_type").GetString(), Is.EqualTo("report"));
            Assert.That(outcome.GetProperty("summary").GetString(), Is.EqualTo("nightly export"));
            Assert.That(outcome.GetProperty("artifacts")[1].GetProperty("bytes").GetInt32(), Is.EqualTo(10));
            Assert.That(outcome.GetProperty("validation_state").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(outcome.GetProperty("recorded_at").GetString(), Does.Match(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"));
        });
    }

    [Test]
    public async Task A_second_report_is_409_even_with_identical_content()
    {
        var body = new { success = true, result = "once" };
        Assert.That((await Report("twice", body)).Status, Is.EqualTo(200));
        AssertError(await Report("twice", body), 409, "outcome_already_recorded");
        AssertError(await Report("twice", new { success = false, error = "changed my mind" }), 409, "outcome_already_recorded");

        var outcome = (await Execution("twice")).GetProperty("outcome");
        Assert.Multiple(() =>
        {
            Assert.That(outcome.GetProperty("success").GetBoolean(), Is.True);
            Assert.That(outcome.GetProperty("result").GetString(), Is.EqualTo("once"));
        });
    }

    [Test]
    public async Task Of_concurrent_reports_exactly_one_is_recorded()
    {
        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Report("race", new { success = i % 2 == 0, result = $"report {i}" })));
        Assert.That(replies.Count(r => r.Status == 200), Is.EqualTo(1), string.Join("\n", replies.Select(r => $"{r.Status} {r.Json}")));
        foreach (var refused in replies.Where(r => r.Status != 200))
        {
            AssertError(refused, 409, "outcome_already_recorded");
        }

        var winner = Array.FindIndex(replies, r => r.Status == 200);
        var outcome = (await Execution("race")).GetProperty("outcome");
        Assert.That(outcome.GetProperty("result").GetString(), Is.EqualTo($"report {winner}"));
    }

    [Test]
    public async Task Unknown_malformed_and_other_accounts_executions_are_execution_not_found()
    {
        var ids = new[] { Guid.NewGuid().ToString("D"), "not-an-id", Id("untouched").ToUpperInvariant() };
        foreach (var id in ids)
        {
            AssertError(await api.PostAsync($"/v1/executions/{id}/outcome", owner.ApiKey, new { success = true }), 404, "execution_not_found");
            AssertError(await api.PostAsync($"/v1/executions/{id}/verify", owner.ApiKey, null), 404, "execution_not_found");
            AssertError(await api.PostAsync($"/v1/executions/{id}/verification-pending", owner.ApiKey, null), 404, "execution_not_found");
            AssertError(await api.SendAsync(HttpMethod.Patch, $"/v1/executions/{id}/evidence", owner.ApiKey, new { summary = "x" }), 404, "execution_not_found");
        }

        var other = Id("untouched");
        AssertError(await Report("untouched", new { success = true }, stranger.ApiKey), 404, "execution_not_found");
        AssertError(await api.PostAsync($"/v1/executions/{other}/verify", stranger.ApiKey, null), 404, "execution_not_found");
        AssertError(await api.PostAsync($"/v1/executions/{other}/verification-pending", stranger.ApiKey, null), 404, "execution_not_found");
        AssertError(await api.SendAsync(HttpMethod.Patch, $"/v1/executions/{other}/evidence", stranger.ApiKey, new { summary = "x" }), 404, "execution_not_found");
        Assert.That((await Execution("untouched")).GetProperty("outcome").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public async Task Bad_reports_are_refused_with_the_contract_errors_and_record_nothing()
    {
        AssertError(await Report("untouched", new { success = true, outcome = "x" }), 422, "validation_error", "outcome");
        AssertError(await Report("untouched", new { result = "no success" }), 422, "validation_error", "success");
        AssertError(await Report("untouched", new { success = "yes" }), 422, "validation_error", "success");
        AssertError(await Report("untouched", new { success = true, result = new string('x', 2_001) }), 422, "validation_error", "result");
        AssertError(await Report("untouched", new { success = true, result_url = "ftp://example.com/r" }), 422, "validation_error", "result_url");
        AssertError(await Report("untouched", new { success = true, artifacts = Enumerable.Range(0, 101).ToArray() }), 422, "validation_error", "artifacts");
        AssertError(await Report("untouched", new { success = true, metadata = new { blob = new string('x', 10_300) } }), 400, "metadata_too_large");
        AssertError(await api.SendRawAsync(HttpMethod.Post, $"/v1/executions/{Id("untouched")}/outcome", owner.ApiKey,
            """{"success": true, "metadata": {"a": 1, "a": 2}}"""), 422, "validation_error", "metadata");
        AssertError(await api.SendRawAsync(HttpMethod.Post, $"/v1/executions/{Id("untouched")}/outcome", owner.ApiKey, "{\"success\": tru"), 400, "invalid_json");
        AssertError(await api.SendRawAsync(HttpMethod.Post, $"/v1/executions/{Id("untouched")}/outcome", owner.ApiKey, "[]"), 400, "invalid_json");

        var execution = await Execution("untouched");
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("outcome").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(execution.GetProperty("outcome_state").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public async Task Verify_verification_pending_and_evidence_without_an_outcome_are_no_outcome()
    {
        AssertError(await Verify("untouched", null), 409, "no_outcome");
        AssertError(await MarkPending("untouched"), 409, "no_outcome");
        AssertError(await AddEvidence("untouched", new { external_id = "x" }), 409, "no_outcome");
    }

    [TestCase("none-failure", false, "reported_failure", null)]
    [TestCase("manual", true, "verification_pending", null)]
    [TestCase("ext-failure", false, "reported_failure", null)]
    public async Task A_report_without_required_evidence_lands_in_its_state(string key, bool success, string state, string? validation)
    {
        var reply = await Report(key, new { success });
        Assert.That(reply.Json.GetProperty("outcome_state").GetString(), Is.EqualTo(state), reply.Json.ToString());
        Assert.That(States(await Execution(key)), Is.EqualTo((state, validation)));
    }

    [TestCase("ext-given", "external_id")]
    [TestCase("url-given", "result_url")]
    [TestCase("art-given", "artifacts")]
    public async Task A_success_with_the_required_evidence_is_verified_success(string key, string item)
    {
        object body = item switch
        {
            "external_id" => new { success = true, external_id = "ext-1" },
            "result_url" => new { success = true, result_url = "http://example.com/result" },
            _ => new { success = true, artifacts = new[] { "out.pdf" } },
        };
        var reply = await Report(key, body);
        Assert.That(reply.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verified_success"), reply.Json.ToString());
        Assert.That(States(await Execution(key)), Is.EqualTo(("verified_success", "valid")));
    }

    [TestCase("ext-missing", "external_id")]
    [TestCase("url-missing", "result_url")]
    [TestCase("art-empty", "artifacts")]
    public async Task A_success_missing_the_required_evidence_fails_until_evidence_supplies_it(string key, string item)
    {
        // The wrong evidence (or, for artifacts, an empty list) is not the required evidence.
        object report = item == "artifacts"
            ? new { success = true, result = "r", artifacts = Array.Empty<string>() }
            : new { success = true, result = "r", result_ref = "ref-1" };
        var reported = await Report(key, report);
        Assert.That(reported.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verification_failed"), reported.Json.ToString());
        Assert.That(States(await Execution(key)), Is.EqualTo(("verification_failed", "invalid")));

        var unrelated = await AddEvidence(key, new { summary = "still missing" });
        Assert.That(unrelated.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verification_failed"), unrelated.Json.ToString());

        object evidence = item switch
        {
            "external_id" => new { external_id = "ext-2" },
            "result_url" => new { result_url = "https://example.com/r/2" },
            _ => new { artifacts = new[] { "late.pdf" } },
        };
        var supplied = await AddEvidence(key, evidence);
        Assert.That(supplied.Status, Is.EqualTo(200), supplied.Json.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(Names(supplied.Json), Is.EqualTo(new[] { "evidence_updated", "execution_id", "outcome_state" }));
            Assert.That(supplied.Json.GetProperty("execution_id").GetString(), Is.EqualTo(Id(key)));
            Assert.That(supplied.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verified_success"));
            Assert.That(supplied.Json.GetProperty("evidence_updated").GetBoolean(), Is.True);
        });

        var execution = await Execution(key);
        var outcome = execution.GetProperty("outcome");
        Assert.Multiple(() =>
        {
            Assert.That(States(execution), Is.EqualTo(("verified_success", "valid")));
            Assert.That(outcome.GetProperty("summary").GetString(), Is.EqualTo("still missing"));
            Assert.That(outcome.GetProperty("result").GetString(), Is.EqualTo("r"), "evidence never touches the report itself");
            Assert.That(outcome.GetProperty("success").GetBoolean(), Is.True);
        });
    }

    [Test]
    public async Task Verify_answers_the_contract_fields_appends_the_reason_and_then_refuses_a_settled_outcome()
    {
        Assert.That((await Report("verify", new { success = true, summary = "looked fine" })).Status, Is.EqualTo(200));
        var reply = await Verify("verify", new { valid = false, reason = "numbers off by one" });
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(Names(reply.Json), Is.EqualTo(new[] { "execution_id", "outcome_state", "reason", "valid" }));
            Assert.That(reply.Json.GetProperty("execution_id").GetString(), Is.EqualTo(Id("verify")));
            Assert.That(reply.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verification_failed"));
            Assert.That(reply.Json.GetProperty("valid").GetBoolean(), Is.False);
            Assert.That(reply.Json.GetProperty("reason").GetString(), Is.EqualTo("numbers off by one"));
        });

        var execution = await Execution("verify");
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("outcome_state").GetString(), Is.EqualTo("verification_failed"));
            Assert.That(execution.GetProperty("outcome").GetProperty("summary").GetString(), Is.EqualTo("looked fine\nnumbers off by one"));
        });

        AssertError(await Verify("verify", new { valid = true }), 409, "invalid_state");
        AssertError(await MarkPending("verify"), 409, "invalid_state");
        AssertError(await Verify("verify", new { valid = true, reason = new string('r', 501) }), 422, "validation_error", "reason");
        AssertError(await Verify("verify", new { valid = true, because = "x" }), 422, "validation_error", "because");
    }

    [Test]
    public async Task Verification_pending_parks_a_reported_outcome_until_a_verdict()
    {
        Assert.That((await Report("pending", new { success = false })).Status, Is.EqualTo(200));
        var reply = await MarkPending("pending");
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(Names(reply.Json), Is.EqualTo(new[] { "execution_id", "outcome_state" }));
            Assert.That(reply.Json.GetProperty("execution_id").GetString(), Is.EqualTo(Id("pending")));
            Assert.That(reply.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verification_pending"));
        });

        var again = await MarkPending("pending");
        Assert.That(again.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verification_pending"), "pending stays pending");
        AssertError(await api.PostAsync($"/v1/executions/{Id("pending")}/verification-pending", owner.ApiKey, new { note = "x" }), 422, "validation_error", "note");

        // No body: valid defaults to true and the reason is null.
        var verdict = await Verify("pending", null);
        Assert.That(verdict.Status, Is.EqualTo(200), verdict.Json.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(verdict.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verified_success"));
            Assert.That(verdict.Json.GetProperty("valid").GetBoolean(), Is.True);
            Assert.That(verdict.Json.GetProperty("reason").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
        Assert.That((await Execution("pending")).GetProperty("outcome_state").GetString(), Is.EqualTo("verified_success"));
    }

    [Test]
    public async Task Evidence_after_a_manual_rejection_is_stored_but_does_not_overturn_it()
    {
        Assert.That((await Report("manual-verdict", new { success = false, metadata = new { k = 1 } })).Status, Is.EqualTo(200));
        Assert.That((await Verify("manual-verdict", new { valid = false })).Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verification_failed"));

        AssertError(await AddEvidence("manual-verdict", new { }), 422, "validation_error");
        AssertError(await AddEvidence("manual-verdict", new { success = true }), 422, "validation_error", "success");
        AssertError(await AddEvidence("manual-verdict", new { result_url = "not a url" }), 422, "validation_error", "result_url");
        var reply = await AddEvidence("manual-verdict", new { external_id = "ext-9", result_type = "export" });
        Assert.That(reply.Json.GetProperty("outcome_state").GetString(), Is.EqualTo("verification_failed"), reply.Json.ToString());

        var outcome = (await Execution("manual-verdict")).GetProperty("outcome");
        Assert.Multiple(() =>
        {
            Assert.That(outcome.GetProperty("external_id").GetString(), Is.EqualTo("ext-9"));
            Assert.That(outcome.GetProperty("result_type").GetString(), Is.EqualTo("export"));
            Assert.That(outcome.GetProperty("success").GetBoolean(), Is.False);
            Assert.That(outcome.GetProperty("metadata").GetProperty("k").GetInt32(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_receivers_2xx_body_with_a_boolean_success_is_the_outcome()
    {
        var execution = executions["from-response"];
        var outcome = execution.GetProperty("outcome");
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("success"));
            Assert.That(execution.GetProperty("outcome_state").GetString(), Is.EqualTo("reported_failure"));
            Assert.That(outcome.GetProperty("success").GetBoolean(), Is.False);
            Assert.That(outcome.GetProperty("result").GetString(), Is.EqualTo("partial"));
            Assert.That(outcome.GetProperty("error").GetString(), Is.EqualTo("disk full"));
            Assert.That(outcome.GetProperty("metadata").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(outcome.GetProperty("recorded_at").GetString(), Is.EqualTo(execution.GetProperty("delivered_at").GetString()));
        });

        // Exactly as a first report: the API's is the second.
        AssertError(await Report("from-response", new { success = true }), 409, "outcome_already_recorded");

        // A body without a boolean success ({"ok": true}) records nothing.
        Assert.That(executions["untouched"].GetProperty("outcome_state").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(executions["untouched"].GetProperty("status").GetString(), Is.EqualTo("success"));
    }

    [Test]
    public async Task A_2xx_body_arriving_after_a_reported_outcome_changes_nothing()
    {
        // Attempt 1 fails; the outcome is reported through the API while the execution waits for its retry
        // (3 backoff "minutes" are 3 s in the test stack); attempt 2's body then reports something else.
        await using var receiver = await WebhookReceiver.StartAsync(500, 200);
        receiver.SuccessBody = """{"success": false, "error": "from the body"}""";
        var created = await api.PostAsync("/v1/cues", owner.ApiKey, new
        {
            name = "late-body-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "once", at = Cue.Contracts.Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(1.5)) },
            callback = new { url = receiver.Url.ToString() },
            retry = new { max_attempts = 2, backoff_minutes = new[] { 3 } },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var path = $"/v1/executions?cue_id={created.Json.GetProperty("id").GetString()}";

        var retrying = await api.PollAsync(path, owner.ApiKey,
            j => j.GetProperty("executions").GetArrayLength() == 1 && j.GetProperty("executions")[0].GetProperty("status").GetString() == "retrying",
            TimeSpan.FromSeconds(10));
        var id = retrying.GetProperty("executions")[0].GetProperty("id").GetString();
        var reported = await api.PostAsync($"/v1/executions/{id}/outcome", owner.ApiKey, new { success = true, result = "from the api" });
        Assert.That(reported.Status, Is.EqualTo(200), reported.Json.ToString());

        var done = await api.PollAsync(path, owner.ApiKey,
            j => j.GetProperty("executions")[0].GetProperty("status").GetString() == "success", TimeSpan.FromSeconds(15));
        var execution = done.GetProperty("executions")[0];
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("success"), stack.Logs());
            Assert.That(execution.GetProperty("attempts").GetInt32(), Is.EqualTo(2));
            Assert.That(execution.GetProperty("response_body").GetString(), Does.Contain("from the body"));
            Assert.That(execution.GetProperty("outcome_state").GetString(), Is.EqualTo("reported_success"));
            Assert.That(execution.GetProperty("outcome").GetProperty("result").GetString(), Is.EqualTo("from the api"));
            Assert.That(execution.GetProperty("outcome").GetProperty("error").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public async Task An_outcome_is_accepted_for_a_failed_delivery_and_leaves_its_status()
    {
        Assert.That(executions["failed-delivery"].GetProperty("status").GetString(), Is.EqualTo("failed"));
        var reply = await Report("failed-delivery", new { success = true, result = "did it by hand" });
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        var execution = await Execution("failed-delivery");
        Assert.Multiple(() =>
        {
            Assert.That(execution.GetProperty("status").GetString(), Is.EqualTo("failed"));
            Assert.That(execution.GetProperty("outcome_state").GetString(), Is.EqualTo("reported_success"));
            Assert.That(execution.GetProperty("http_status").GetInt32(), Is.EqualTo(500));
        });
    }
}
