using System.Text.Json;
using Cue.Api.Executions;
using Cue.Api.Hosting;
using Cue.Contracts;
using Cue.Encryption;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>The pure outcome decisions: §5.3 field rules and the §7.3 state table.</summary>
public sealed class Deciding_outcomes
{
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 16, 0, 0, TimeSpan.Zero);
    private static readonly AccountCipher Cipher = TestCiphers.New();

    private static Sealed Sealed(string field, string clear) => Cipher.Seal(field, clear);

    private static string? Open(string field, Sealed? value) => Cipher.Open(field, value);

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static ApiError Refused(Action action) => Assert.Throws<ApiError>(() => action())!;

    private static ExecutionView Execution(string? state = null, OutcomeView? outcome = null) => new()
    {
        Id = "6f1c2a9e-0b7d-4c55-9a3e-2d8f4b1e7c90",
        OutcomeState = state,
        Outcome = outcome,
    };

    // §7.3, one row per (report, mode).
    [TestCase(false, "none", "", "reported_failure", null)]
    [TestCase(false, "manual", "", "reported_failure", null)]
    [TestCase(false, "require_external_id", "", "reported_failure", null)]
    [TestCase(false, "require_external_id", "external_id", "reported_failure", null)]
    [TestCase(true, "none", "", "reported_success", null)]
    [TestCase(true, "none", "external_id", "reported_success", null)]
    [TestCase(true, "manual", "", "verification_pending", null)]
    [TestCase(true, "manual", "external_id", "verification_pending", null)]
    [TestCase(true, "require_external_id", "external_id", "verified_success", "valid")]
    [TestCase(true, "require_external_id", "", "verification_failed", "invalid")]
    [TestCase(true, "require_external_id", "result_url", "verification_failed", "invalid")]
    [TestCase(true, "require_result_url", "result_url", "verified_success", "valid")]
    [TestCase(true, "require_result_url", "external_id", "verification_failed", "invalid")]
    [TestCase(true, "require_artifacts", "artifacts", "verified_success", "valid")]
    [TestCase(true, "require_artifacts", "empty_artifacts", "verification_failed", "invalid")]
    [TestCase(true, "require_artifacts", "", "verification_failed", "invalid")]
    public void A_report_lands_in_the_state_of_the_table(bool success, string mode, string evidenceGiven, string state, string? validation)
    {
        var evidence = evidenceGiven switch
        {
            "external_id" => Evidence.None with { ExternalId = "ext-1" },
            "result_url" => Evidence.None with { ResultUrl = "https://example.com/r/1" },
            "artifacts" => Evidence.None with { Artifacts = "[\"a.txt\"]" },
            "empty_artifacts" => Evidence.None with { Artifacts = "[]" },
            _ => Evidence.None,
        };
        Assert.That(OutcomeRules.StateOnReport(success, evidence, mode), Is.EqualTo((state, validation)));
    }

    [Test]
    public void An_empty_external_id_is_no_evidence() =>
        Assert.That(OutcomeRules.StateOnReport(true, Evidence.None with { ExternalId = "" }, "require_external_id").OutcomeState,
            Is.EqualTo("verification_failed"));

    [Test]
    public void A_report_is_parsed_with_canonical_json_values()
    {
        var report = OutcomeRules.ParseReport(Body("""
            {"success": true, "result": "done", "error": null, "metadata": {"b": 1.0, "a": "é"}, "external_id": "x",
             "result_url": "https://example.com/r?id=1", "result_ref": "ref", "result_type": "report", "summary": "s", "artifacts": [{"k": 1e2}]}
            """));
        Assert.Multiple(() =>
        {
            Assert.That(report.Success, Is.True);
            Assert.That(report.Result, Is.EqualTo("done"));
            Assert.That(report.Error, Is.Null);
            Assert.That(report.Metadata, Is.EqualTo("{\"a\": \"\\u00e9\", \"b\": 1.0}"));
            Assert.That(report.Evidence, Is.EqualTo(new Evidence("x", "https://example.com/r?id=1", "ref", "report", "s", "[{\"k\": 100.0}]")));
        });
    }

    [TestCase("{}", "success")]
    [TestCase("{\"success\": null}", "success")]
    [TestCase("{\"success\": \"true\"}", "success")]
    [TestCase("{\"success\": true, \"result\": 5}", "result")]
    [TestCase("{\"success\": true, \"error\": {}}", "error")]
    [TestCase("{\"success\": true, \"metadata\": []}", "metadata")]
    [TestCase("{\"success\": true, \"metadata\": \"x\"}", "metadata")]
    [TestCase("{\"success\": true, \"metadata\": {\"a\": 1, \"a\": 2}}", "metadata")]
    [TestCase("{\"success\": true, \"result_url\": \"ftp://example.com/x\"}", "result_url")]
    [TestCase("{\"success\": true, \"result_url\": \"/relative\"}", "result_url")]
    [TestCase("{\"success\": true, \"result_url\": \" https://example.com\"}", "result_url")]
    [TestCase("{\"success\": true, \"result_url\": \"\"}", "result_url")]
    [TestCase("{\"success\": true, \"artifacts\": {}}", "artifacts")]
    [TestCase("{\"success\": true, \"summary\": \"a\\u0000b\"}", "summary")]
    [TestCase("{\"success\": true, \"summary\": \"\\ud800\"}", "summary")]
    [TestCase("{\"success\": true, \"verified\": true}", "verified")]
    [TestCase("{\"success\": true, \"outcome_state\": \"verified_success\"}", "outcome_state")]
    public void A_bad_report_is_a_422_naming_the_field(string json, string field)
    {
        var error = Refused(() => OutcomeRules.ParseReport(Body(json)));
        Assert.Multiple(() =>
        {
            Assert.That(error.Status, Is.EqualTo(422));
            Assert.That(error.Code, Is.EqualTo("validation_error"));
            Assert.That(error.Details!.Single().Field, Is.EqualTo(field));
        });
    }

    [TestCase("result", 2_000)]
    [TestCase("error", 2_000)]
    [TestCase("external_id", 255)]
    [TestCase("result_ref", 255)]
    [TestCase("result_type", 50)]
    [TestCase("summary", 500)]
    public void Strings_are_accepted_up_to_their_limit_and_refused_one_past_it(string field, int limit)
    {
        Assert.That(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"{field}\": \"{new string('x', limit)}\"}}")), Throws.Nothing);
        var error = Refused(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"{field}\": \"{new string('x', limit + 1)}\"}}")));
        Assert.That(error.Details!.Single().Field, Is.EqualTo(field));
    }

    [Test]
    public void A_result_url_may_be_2048_characters_and_no_more()
    {
        var prefix = "https://example.com/";
        Assert.That(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"result_url\": \"{prefix}{new string('a', 2_048 - prefix.Length)}\"}}")), Throws.Nothing);
        var error = Refused(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"result_url\": \"{prefix}{new string('a', 2_049 - prefix.Length)}\"}}")));
        Assert.That(error.Details!.Single().Field, Is.EqualTo("result_url"));
    }

    [Test]
    public void Metadata_of_10240_canonical_bytes_is_accepted_and_one_more_is_metadata_too_large()
    {
        // {"k": "…"} is 9 bytes around the string.
        Assert.That(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"metadata\": {{\"k\": \"{new string('x', 10_231)}\"}}}}")), Throws.Nothing);
        var error = Refused(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"metadata\": {{\"k\": \"{new string('x', 10_232)}\"}}}}")));
        Assert.Multiple(() =>
        {
            Assert.That(error.Status, Is.EqualTo(400));
            Assert.That(error.Code, Is.EqualTo("metadata_too_large"));
        });
    }

    [Test]
    public void Metadata_size_is_measured_in_canonical_form_not_as_sent()
    {
        // 'é' is 2 bytes as sent but 6 canonical (\u00e9): 1,800 of them pass as sent and fail canonically.
        var error = Refused(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"metadata\": {{\"k\": \"{new string('é', 1_800)}\"}}}}")));
        Assert.That(error.Code, Is.EqualTo("metadata_too_large"));
    }

    [Test]
    public void Artifacts_hold_at_most_100_items_and_10240_canonical_bytes()
    {
        Assert.That(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"artifacts\": [{string.Join(", ", Enumerable.Repeat("1", 100))}]}}")), Throws.Nothing);
        var tooMany = Refused(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"artifacts\": [{string.Join(", ", Enumerable.Repeat("1", 101))}]}}")));
        // ["…"] is 4 bytes around the string.
        Assert.That(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"artifacts\": [\"{new string('x', 10_236)}\"]}}")), Throws.Nothing);
        var tooBig = Refused(() => OutcomeRules.ParseReport(Body($"{{\"success\": true, \"artifacts\": [\"{new string('x', 10_237)}\"]}}")));
        Assert.Multiple(() =>
        {
            Assert.That((tooMany.Status, tooMany.Code, tooMany.Details!.Single().Field), Is.EqualTo((422, "validation_error", "artifacts")));
            Assert.That((tooBig.Status, tooBig.Code, tooBig.Details!.Single().Field), Is.EqualTo((422, "validation_error", "artifacts")));
        });
    }

    [Test]
    public void A_second_report_is_outcome_already_recorded_whatever_it_says()
    {
        var execution = Execution("reported_success", new OutcomeView { Success = true });
        var same = new OutcomeReport(true, null, null, null, Evidence.None);
        var error = Refused(() => OutcomeRules.Report(execution, same, "none", Now, Cipher));
        Assert.That((error.Status, error.Code), Is.EqualTo((409, "outcome_already_recorded")));
    }

    [Test]
    public void A_first_report_records_every_field_with_the_decided_state()
    {
        var report = new OutcomeReport(true, "r", "e", "{}", new Evidence("x", null, null, "t", null, null));
        var e = OutcomeRules.Report(Execution(), report, "require_external_id", Now, Cipher);
        Assert.Multiple(() =>
        {
            Assert.That(e.ExecutionId, Is.EqualTo(Guid.Parse(Execution().Id)));
            Assert.That((e.Success, Open(SealedFields.Result, e.Result), Open(SealedFields.Error, e.Error), Open(SealedFields.Metadata, e.Metadata),
                Open(SealedFields.ExternalId, e.ExternalId), e.ResultType), Is.EqualTo((true, "r", "e", "{}", "x", "t")));
            Assert.That((e.OutcomeState, e.ValidationState, e.Source, e.RecordedAt), Is.EqualTo(("verified_success", "valid", "api", Now)));
        });
    }

    [TestCase("reported_success", true, "verified_success")]
    [TestCase("reported_success", false, "verification_failed")]
    [TestCase("reported_failure", true, "verified_success")]
    [TestCase("reported_failure", false, "verification_failed")]
    [TestCase("verification_pending", true, "verified_success")]
    [TestCase("verification_pending", false, "verification_failed")]
    public void Verify_moves_a_reported_or_pending_outcome(string from, bool valid, string to)
    {
        var e = OutcomeRules.Verify(Execution(from, new OutcomeView()), valid, null, Now, Cipher);
        Assert.Multiple(() =>
        {
            Assert.That(e.OutcomeState, Is.EqualTo(to));
            Assert.That(e.Summary, Is.Null);
            Assert.That(e.ChangedAt, Is.EqualTo(Now));
        });
    }

    [TestCase("verified_success")]
    [TestCase("verification_failed")]
    public void Verify_and_verification_pending_refuse_a_settled_outcome(string from)
    {
        var verify = Refused(() => OutcomeRules.Verify(Execution(from, new OutcomeView()), true, null, Now, Cipher));
        var pending = Refused(() => OutcomeRules.MarkPending(Execution(from, new OutcomeView()), Now));
        Assert.Multiple(() =>
        {
            Assert.That((verify.Status, verify.Code), Is.EqualTo((409, "invalid_state")));
            Assert.That((pending.Status, pending.Code), Is.EqualTo((409, "invalid_state")));
        });
    }

    [Test]
    public void Verify_verification_pending_and_evidence_need_an_outcome()
    {
        var errors = new[]
        {
            Refused(() => OutcomeRules.Verify(Execution(), true, null, Now, Cipher)),
            Refused(() => OutcomeRules.MarkPending(Execution(), Now)),
            Refused(() => OutcomeRules.AddEvidence(Execution(), Evidence.None with { ExternalId = "x" }, "none", Now, Cipher)),
        };
        Assert.That(errors.Select(e => (e.Status, e.Code)), Is.All.EqualTo((409, "no_outcome")));
    }

    [TestCase("reported_success")]
    [TestCase("reported_failure")]
    [TestCase("verification_pending")]
    public void Verification_pending_parks_a_reported_or_pending_outcome(string from)
    {
        var kept = Sealed(SealedFields.Summary, "kept");
        Assert.That(OutcomeRules.MarkPending(Execution(from, new OutcomeView { Summary = kept }), Now),
            Has.Property("OutcomeState").EqualTo("verification_pending").And.Property("Summary").SameAs(kept));
    }

    [Test]
    public void The_reason_is_appended_to_the_summary_and_capped_at_500()
    {
        var none = OutcomeRules.Verify(Execution("reported_success", new OutcomeView()), false, "bad numbers", Now, Cipher);
        var some = OutcomeRules.Verify(Execution("reported_success", new OutcomeView { Summary = Sealed(SealedFields.Summary, "nightly run") }), false, "bad numbers", Now, Cipher);
        var full = OutcomeRules.Verify(Execution("reported_success", new OutcomeView { Summary = Sealed(SealedFields.Summary, new string('s', 450)) }), true, new string('r', 100), Now, Cipher);
        Assert.Multiple(() =>
        {
            Assert.That(Open(SealedFields.Summary, none.Summary), Is.EqualTo("bad numbers"));
            Assert.That(Open(SealedFields.Summary, some.Summary), Is.EqualTo("nightly run\nbad numbers"));
            Assert.That(Open(SealedFields.Summary, full.Summary), Has.Length.EqualTo(500).And.StartsWith(new string('s', 450) + "\nr"));
        });
    }

    [TestCase("require_external_id", "external_id")]
    [TestCase("require_result_url", "result_url")]
    [TestCase("require_artifacts", "artifacts")]
    public void Evidence_supplying_the_missing_item_turns_an_automatic_failure_into_verified_success(string mode, string item)
    {
        var evidence = item switch
        {
            "external_id" => Evidence.None with { ExternalId = "x" },
            "result_url" => Evidence.None with { ResultUrl = "https://example.com" },
            _ => Evidence.None with { Artifacts = "[1]" },
        };
        var failed = Execution("verification_failed", new OutcomeView { Success = true, ValidationState = "invalid" });
        var wrongItem = OutcomeRules.AddEvidence(failed, Evidence.None with { ResultRef = "r" }, mode, Now, Cipher);
        var missingItem = OutcomeRules.AddEvidence(failed, evidence, mode, Now, Cipher);
        Assert.Multiple(() =>
        {
            Assert.That((wrongItem.OutcomeState, wrongItem.ValidationState), Is.EqualTo(("verification_failed", "invalid")));
            Assert.That((missingItem.OutcomeState, missingItem.ValidationState), Is.EqualTo(("verified_success", "valid")));
        });
    }

    [Test]
    public void Evidence_merges_with_what_was_reported_when_rechecking()
    {
        // The stored items count too: artifacts reported while the cue required an external id, the cue now
        // requiring artifacts, and a PATCH of a summary alone re-checks to verified_success.
        var failed = Execution("verification_failed", new OutcomeView { Success = true, ValidationState = "invalid", Artifacts = Sealed(SealedFields.Artifacts, "[\"a\"]") });
        var e = OutcomeRules.AddEvidence(failed, Evidence.None with { Summary = "more" }, "require_artifacts", Now, Cipher);
        Assert.That(e.OutcomeState, Is.EqualTo("verified_success"));
    }

    [TestCase("verification_failed", null, "require_external_id")]
    [TestCase("verification_failed", "invalid", "none")]
    [TestCase("verification_failed", "invalid", "manual")]
    [TestCase("reported_success", null, "require_external_id")]
    [TestCase("reported_failure", null, "require_external_id")]
    [TestCase("verification_pending", null, "require_external_id")]
    [TestCase("verified_success", "valid", "require_external_id")]
    public void Evidence_leaves_every_other_state_alone(string state, string? validation, string mode)
    {
        var execution = Execution(state, new OutcomeView { ValidationState = validation });
        var e = OutcomeRules.AddEvidence(execution, Evidence.None with { ExternalId = "x" }, mode, Now, Cipher);
        Assert.Multiple(() =>
        {
            Assert.That((e.OutcomeState, e.ValidationState), Is.EqualTo((state, validation)));
            Assert.That(Open(SealedFields.ExternalId, e.ExternalId), Is.EqualTo("x"));
            Assert.That(e.UpdatedAt, Is.EqualTo(Now));
        });
    }

    [TestCase("{}")]
    [TestCase("{\"external_id\": null}")]
    [TestCase("{\"success\": true}")]
    [TestCase("{\"external_id\": \"x\", \"metadata\": {}}")]
    public void Evidence_needs_at_least_one_evidence_field_and_nothing_else(string json)
    {
        var error = Refused(() => OutcomeRules.ParseEvidence(Body(json)));
        Assert.That((error.Status, error.Code), Is.EqualTo((422, "validation_error")));
    }

    [Test]
    public void Verify_defaults_to_valid_and_refuses_unknown_or_mistyped_fields()
    {
        Assert.Multiple(() =>
        {
            Assert.That(OutcomeRules.ParseVerify(Body("{}")), Is.EqualTo((true, (string?)null)));
            Assert.That(OutcomeRules.ParseVerify(Body("{\"valid\": false, \"reason\": \"no\"}")), Is.EqualTo((false, "no")));
            Assert.That(Refused(() => OutcomeRules.ParseVerify(Body("{\"valid\": \"yes\"}"))).Details!.Single().Field, Is.EqualTo("valid"));
            Assert.That(Refused(() => OutcomeRules.ParseVerify(Body($"{{\"reason\": \"{new string('r', 501)}\"}}"))).Details!.Single().Field, Is.EqualTo("reason"));
            Assert.That(Refused(() => OutcomeRules.ParseVerify(Body("{\"verdict\": true}"))).Details!.Single().Field, Is.EqualTo("verdict"));
        });
    }

    [TestCase("{\"success\": true}", true, null, null)]
    [TestCase("{\"success\": false, \"error\": \"disk full\", \"result\": \"partial\"}", false, "partial", "disk full")]
    [TestCase("{\"success\": true, \"result\": 42, \"metadata\": {\"a\": 1}}", true, null, null)]
    [TestCase("{\"success\": true, \"result\": \"a\\u0000b\"}", true, "a\uFFFDb", null)]
    public void A_response_body_with_a_boolean_success_is_a_report(string body, bool success, string? result, string? error)
    {
        var report = OutcomeRules.FromResponseBody(body);
        Assert.That(report, Is.EqualTo(new OutcomeReport(success, result, error, null, Evidence.None)));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("not json")]
    [TestCase("{\"ok\": true}")]
    [TestCase("{\"success\": \"true\"}")]
    [TestCase("{\"success\": 1}")]
    [TestCase("[{\"success\": true}]")]
    [TestCase("{\"success\": true")]
    public void Any_other_response_body_is_no_report(string? body) =>
        Assert.That(OutcomeRules.FromResponseBody(body), Is.Null);

    [Test]
    public void Response_strings_are_cut_to_2000_characters_without_splitting_a_surrogate_pair()
    {
        var report = OutcomeRules.FromResponseBody($"{{\"success\": true, \"result\": \"{new string('x', 2_500)}\", \"error\": \"{new string('y', 1_999)}😀\"}}")!;
        Assert.Multiple(() =>
        {
            Assert.That(report.Result, Is.EqualTo(new string('x', 2_000)));
            Assert.That(report.Error, Is.EqualTo(new string('y', 1_999)));
        });
    }
}
