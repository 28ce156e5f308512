using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// Contract §1 and §1.1, read off real responses: every documented field is present; the fields client
/// parsers need are never <c>null</c>; and nothing is <c>null</c> that the contract does not mark "|null".
/// The field lists are copied from the contract's text (§1.1, §5.1, §5.2, §5.4, §7.1), not from the
/// OpenAPI document, so the two are checked independently.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Never_null_fields
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>What the contract says about one kind of object.</summary>
    private sealed record Shape(string Name, string[] NeverNull, string[] Nullable, string[] Opaque, string[] Integers);

    /// <summary>§1.1 Cue, plus the "|null" fields of §5.2 (the "Cue object" paragraph and the field table).</summary>
    private static readonly Shape Cue = new("Cue",
        NeverNull:
        [
            "id", "name", "status", "transport", "schedule", "schedule.type", "schedule.timezone", "callback", "callback.method",
            "callback.headers", "payload", "retry", "retry.max_attempts", "retry.backoff_minutes", "delivery", "delivery.timeout_seconds",
            "catch_up", "on_failure", "on_failure.email", "on_failure.pause", "verification", "verification.mode", "run_count",
            "fired_count", "created_at", "updated_at",
        ],
        Nullable: ["description", "schedule.cron", "schedule.at", "callback.url", "on_failure.webhook", "next_run", "last_run", "warning"],
        // The caller's own data: a null inside it is the caller's.
        Opaque: ["payload", "callback.headers"],
        Integers: ["run_count", "fired_count", "retry.max_attempts", "delivery.timeout_seconds"]);

    /// <summary>§5.2 Get: the Cue plus a page of its executions (each walked as an Execution of its own).</summary>
    private static readonly Shape CueDetail = Cue with
    {
        NeverNull = [.. Cue.NeverNull, "executions", "execution_total", "execution_limit", "execution_offset"],
        Opaque = [.. Cue.Opaque, "executions"],
        Integers = [.. Cue.Integers, "execution_total", "execution_limit", "execution_offset"],
    };

    /// <summary>
    /// §1.1 Execution, the "|null" fields of §7.1, and the members of <c>outcome</c> (when it is an object:
    /// <c>success</c> is a boolean, the optional report fields are null when not reported).
    /// </summary>
    private static readonly Shape Execution = new("Execution",
        NeverNull: ["id", "cue_id", "scheduled_for", "status", "triggered_by", "attempts", "payload", "created_at", "updated_at", "outcome.success", "outcome.recorded_at"],
        Nullable:
        [
            "replayed_from", "http_status", "error_message", "response_body", "started_at", "last_attempt_at", "delivered_at", "next_retry",
            "outcome_state", "outcome", "outcome.result", "outcome.error", "outcome.metadata", "outcome.external_id", "outcome.result_url",
            "outcome.result_ref", "outcome.result_type", "outcome.summary", "outcome.artifacts", "outcome.validation_state",
        ],
        Opaque: ["payload", "outcome.metadata", "outcome.artifacts"],
        Integers: ["attempts"]);

    /// <summary>§5.1 Me: every field, never null.</summary>
    private static readonly Shape Me = new("Me",
        NeverNull:
        [
            "email", "mode", "plan", "active_cues", "active_cue_limit", "executions_this_month", "monthly_execution_limit", "rate_limit_per_minute",
            "has_webhook_secret", "api_key_prefix", "created_at",
        ],
        Nullable: [],
        Opaque: [],
        Integers: ["active_cues", "active_cue_limit", "executions_this_month", "monthly_execution_limit", "rate_limit_per_minute"]);

    /// <summary>§5.4 Usage: every field, never null; counters and limits integers.</summary>
    private static readonly Shape Usage = new("Usage",
        NeverNull:
        [
            "plan", "billing_period", "billing_period.start", "billing_period.end", "billing_period.days_remaining",
            "cues", "cues.active", "cues.used", "cues.limit", "cues.remaining", "cues.percent_used",
            "executions", "executions.used", "executions.limit", "executions.remaining", "executions.percent_used",
            "outcomes", "outcomes.reported", "outcomes.succeeded", "outcomes.failed",
            "rate_limit", "rate_limit.limit", "rate_limit.requests_per_minute", "rate_limit.remaining",
        ],
        Nullable: [],
        Opaque: [],
        Integers:
        [
            "billing_period.days_remaining", "cues.active", "cues.used", "cues.limit", "cues.remaining", "executions.used", "executions.limit",
            "executions.remaining", "outcomes.reported", "outcomes.succeeded", "outcomes.failed", "rate_limit.limit", "rate_limit.requests_per_minute",
            "rate_limit.remaining",
        ]);

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
    public async Task Real_responses_carry_every_documented_field_and_null_only_where_the_contract_allows()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var failing = await WebhookReceiver.StartAsync(500);
        var key = (await api.RegisterAsync("test")).ApiKey;
        var seen = new Dictionary<string, int>();

        // Cues with only the required fields: every default applied, and shown.
        var at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(3));
        var once = await CreateAsync(key, new { name = "nn-once-" + Suffix(), schedule = new { type = "once", at }, callback = new { url = receiver.Url.ToString() } });
        var recurring = await CreateAsync(key, new { name = "nn-rec-" + Suffix(), schedule = new { type = "recurring", cron = "0 0 1 1 *" }, callback = new { url = receiver.Url.ToString() } });
        var failed = await CreateAsync(key, new
        {
            name = "nn-fail-" + Suffix(),
            schedule = new { type = "once", at },
            callback = new { url = failing.Url.ToString() },
            retry = new { max_attempts = 1 },
        });
        foreach (var cue in new[] { once, recurring })
        {
            Holds(cue, Cue, "created " + cue.GetProperty("schedule").GetProperty("type").GetString(), seen);
            DefaultsApplied(cue);
        }

        var onceId = once.GetProperty("id").GetString()!;
        var recurringId = recurring.GetProperty("id").GetString()!;
        Holds(await OkAsync(HttpMethod.Get, $"/v1/cues/{recurringId}", key), CueDetail, "recurring cue", seen);
        Holds(await OkAsync(HttpMethod.Patch, $"/v1/cues/{recurringId}", key, new { description = "now described" }), Cue, "patched cue", seen);
        var paused = await OkAsync(HttpMethod.Patch, $"/v1/cues/{recurringId}", key, new { status = "paused" });
        Assert.That(paused.GetProperty("next_run").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Holds(paused, Cue, "paused cue", seen);
        Holds(await OkAsync(HttpMethod.Patch, $"/v1/cues/{recurringId}", key, new { status = "active", description = (string?)null }), Cue, "resumed cue", seen);

        // A pending execution: a fire an hour ahead, as fired and as read back.
        var fired = await OkAsync(HttpMethod.Post, $"/v1/cues/{recurringId}/fire", key, new { send_at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)) });
        Assert.That(fired.GetProperty("status").GetString(), Is.EqualTo("pending"));
        Holds(fired, Execution, "fired execution", seen);
        Holds(await OkAsync(HttpMethod.Get, $"/v1/executions/{fired.GetProperty("id").GetString()}", key), Execution, "pending execution", seen);

        // Scheduled executions that succeeded and failed.
        var list = await api.PollAsync("/v1/executions?triggered_by=scheduled", key,
            j => j.GetProperty("total").GetInt32() == 2 && j.GetProperty("executions").EnumerateArray().All(e => e.GetProperty("status").GetString() is "success" or "failed"),
            Patience);
        var byCue = list.GetProperty("executions").EnumerateArray().ToDictionary(e => e.GetProperty("cue_id").GetString()!, e => e.GetProperty("id").GetString()!);
        Assert.That(byCue, Has.Count.EqualTo(2), $"{list}\n{stack.Logs()}");
        var succeeded = await OkAsync(HttpMethod.Get, $"/v1/executions/{byCue[onceId]}", key);
        var failedExecution = await OkAsync(HttpMethod.Get, $"/v1/executions/{byCue[failed.GetProperty("id").GetString()!]}", key);
        Assert.That(succeeded.GetProperty("status").GetString(), Is.EqualTo("success"));
        Assert.That(failedExecution.GetProperty("status").GetString(), Is.EqualTo("failed"));
        Holds(succeeded, Execution, "delivered execution", seen);
        Holds(failedExecution, Execution, "failed execution", seen);

        // An outcome with nothing but the required member: the object is there, success is a boolean.
        await OkAsync(HttpMethod.Post, $"/v1/executions/{byCue[onceId]}/outcome", key, new { success = true });
        var reported = await OkAsync(HttpMethod.Get, $"/v1/executions/{byCue[onceId]}", key);
        Assert.That(reported.GetProperty("outcome").ValueKind, Is.EqualTo(JsonValueKind.Object));
        Assert.That(reported.GetProperty("outcome").GetProperty("success").ValueKind, Is.EqualTo(JsonValueKind.True));
        Holds(reported, Execution, "execution with an outcome", seen);

        var replay = await OkAsync(HttpMethod.Post, $"/v1/executions/{failedExecution.GetProperty("id").GetString()}/replay", key);
        Assert.That(replay.GetProperty("replayed_from").ValueKind, Is.EqualTo(JsonValueKind.String));
        Holds(replay, Execution, "replay", seen);

        // The once cue after its delivery (completed, next_run null), with its executions embedded.
        var completed = await api.PollAsync($"/v1/cues/{onceId}", key, j => j.GetProperty("status").GetString() == "completed" && j.GetProperty("run_count").GetInt32() == 1, Patience);
        Assert.That(completed.GetProperty("status").GetString(), Is.EqualTo("completed"), stack.Logs());
        Holds(completed, CueDetail, "completed once cue", seen);
        Assert.That(completed.GetProperty("executions").GetArrayLength(), Is.EqualTo(1));
        foreach (var embedded in completed.GetProperty("executions").EnumerateArray())
        {
            Holds(embedded, Execution, "embedded execution", seen);
        }

        // Lists: the wrapper's fields, and each item.
        var cues = await OkAsync(HttpMethod.Get, "/v1/cues", key);
        ListHolds(cues, "cues", "cue list");
        Assert.That(cues.GetProperty("cues").GetArrayLength(), Is.EqualTo(3));
        foreach (var item in cues.GetProperty("cues").EnumerateArray())
        {
            Holds(item, Cue, "listed cue", seen);
        }

        var executions = await OkAsync(HttpMethod.Get, "/v1/executions", key);
        ListHolds(executions, "executions", "execution list");
        Assert.That(executions.GetProperty("executions").GetArrayLength(), Is.EqualTo(4));
        foreach (var item in executions.GetProperty("executions").EnumerateArray())
        {
            Holds(item, Execution, "listed execution", seen);
        }

        ListHolds(await OkAsync(HttpMethod.Get, "/v1/executions?status=missed", key), "executions", "empty execution list");

        Holds(await OkAsync(HttpMethod.Get, "/v1/auth/me", key), Me, "me", seen);
        Holds(await OkAsync(HttpMethod.Get, "/v1/usage", key), Usage, "usage", seen);

        // Every kind of object was walked.
        Assert.That(seen.Keys, Is.EquivalentTo(new[] { "Cue", "Execution", "Me", "Usage" }));

        await api.SendAsync(HttpMethod.Delete, $"/v1/cues/{recurringId}", key, null);
    }

    /// <summary>
    /// Every documented path of <paramref name="shape"/> is present (a member under a null parent counts as
    /// present), the never-null ones are not null, integers are integers, and any null anywhere outside the
    /// caller's own data is at a documented nullable path.
    /// </summary>
    private static void Holds(JsonElement value, Shape shape, string what, Dictionary<string, int> seen)
    {
        seen[shape.Name] = seen.GetValueOrDefault(shape.Name) + 1;
        Present(value, what, shape.Nullable, neverNull: false);
        Present(value, what, shape.NeverNull, neverNull: true);
        foreach (var path in shape.Integers)
        {
            if (Find(value, path) is { } number)
            {
                Assert.That(number.ValueKind, Is.EqualTo(JsonValueKind.Number), $"{what}: {path}");
                Assert.That(number.GetRawText(), Does.Match("^-?[0-9]+$"), $"{what}: {path} is not an integer");
            }
        }

        if (shape == Execution && value.GetProperty("outcome").ValueKind == JsonValueKind.Object)
        {
            Assert.That(value.GetProperty("outcome").GetProperty("success").ValueKind, Is.AnyOf(JsonValueKind.True, JsonValueKind.False), $"{what}: outcome.success");
        }

        var nulls = new List<string>();
        CollectNulls(value, "", shape.Opaque, nulls);
        Assert.That(nulls.Except(shape.Nullable), Is.Empty, $"{what}: null where the contract does not allow it, in {value}");
    }

    private static void Present(JsonElement value, string what, IEnumerable<string> paths, bool neverNull)
    {
        foreach (var path in paths)
        {
            var parent = value;
            var segments = path.Split('.');
            foreach (var segment in segments[..^1])
            {
                Assert.That(parent.ValueKind, Is.EqualTo(JsonValueKind.Object), $"{what}: the parent of {path}");
                Assert.That(parent.TryGetProperty(segment, out parent), Is.True, $"{what}: {path} is missing, in {value}");
                if (parent.ValueKind == JsonValueKind.Null)
                {
                    break;
                }
            }

            if (parent.ValueKind == JsonValueKind.Null)
            {
                // The parent is null (a nullable object such as outcome): its members are not expected.
                continue;
            }

            Assert.That(parent.TryGetProperty(segments[^1], out var member), Is.True, $"{what}: {path} is missing, in {value}");
            if (neverNull)
            {
                Assert.That(member.ValueKind, Is.Not.EqualTo(JsonValueKind.Null), $"{what}: {path} is null, in {value}");
            }
        }
    }

    private static JsonElement? Find(JsonElement value, string path)
    {
        foreach (var segment in path.Split('.'))
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(segment, out value))
            {
                return null;
            }
        }

        return value;
    }

    private static void CollectNulls(JsonElement value, string path, string[] opaque, List<string> nulls)
    {
        if (opaque.Contains(path))
        {
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                nulls.Add(path);
                break;
            case JsonValueKind.Object:
                foreach (var member in value.EnumerateObject())
                {
                    CollectNulls(member.Value, path.Length == 0 ? member.Name : path + "." + member.Name, opaque, nulls);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    CollectNulls(item, path + "[]", opaque, nulls);
                }

                break;
        }
    }

    /// <summary>§1.1 Lists: the item array, <c>total</c>, <c>limit</c>, <c>offset</c>, <c>has_more</c>.</summary>
    private static void ListHolds(JsonElement list, string items, string what)
    {
        Present(list, what, [items, "total", "limit", "offset", "has_more"], neverNull: true);
        Assert.That(list.GetProperty(items).ValueKind, Is.EqualTo(JsonValueKind.Array), what);
        Assert.That(list.GetProperty("has_more").ValueKind, Is.AnyOf(JsonValueKind.True, JsonValueKind.False), what);
        foreach (var name in new[] { "total", "limit", "offset" })
        {
            Assert.That(list.Integer(name), Is.GreaterThanOrEqualTo(0), $"{what}: {name}");
        }
    }

    /// <summary>§5.2's defaults, for a cue created with only name, schedule type and time, and callback URL.</summary>
    private static void DefaultsApplied(JsonElement cue)
    {
        Assert.Multiple(() =>
        {
            Assert.That(cue.GetProperty("description").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(cue.GetProperty("status").GetString(), Is.EqualTo("active"));
            Assert.That(cue.GetProperty("transport").GetString(), Is.EqualTo("webhook"));
            Assert.That(cue.GetProperty("schedule").GetProperty("timezone").GetString(), Is.EqualTo("UTC"));
            Assert.That(cue.GetProperty("callback").GetProperty("method").GetString(), Is.EqualTo("POST"));
            Assert.That(cue.GetProperty("callback").GetProperty("headers").ToString(), Is.EqualTo("{}"));
            Assert.That(cue.GetProperty("payload").ToString(), Is.EqualTo("{}"));
            Assert.That(cue.GetProperty("retry").GetProperty("max_attempts").GetInt32(), Is.EqualTo(3));
            Assert.That(cue.GetProperty("retry").GetProperty("backoff_minutes").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 1, 5, 15 }));
            Assert.That(cue.GetProperty("delivery").GetProperty("timeout_seconds").GetInt32(), Is.EqualTo(30));
            Assert.That(cue.GetProperty("catch_up").GetString(), Is.EqualTo("run_once_if_missed"));
            Assert.That(cue.GetProperty("on_failure").GetProperty("email").GetBoolean(), Is.True);
            Assert.That(cue.GetProperty("on_failure").GetProperty("webhook").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(cue.GetProperty("on_failure").GetProperty("pause").GetBoolean(), Is.False);
            Assert.That(cue.GetProperty("verification").GetProperty("mode").GetString(), Is.EqualTo("none"));
            Assert.That(cue.GetProperty("run_count").GetInt32(), Is.Zero);
            Assert.That(cue.GetProperty("fired_count").GetInt32(), Is.Zero);
            Assert.That(cue.GetProperty("next_run").ValueKind, Is.EqualTo(JsonValueKind.String));
        });
    }

    private async Task<JsonElement> CreateAsync(string key, object body)
    {
        var created = await api.PostAsync("/v1/cues", key, body);
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        return created.Json;
    }

    private async Task<JsonElement> OkAsync(HttpMethod method, string path, string key, object? body = null)
    {
        var reply = await api.SendAsync(method, path, key, body);
        Assert.That(reply.Status, Is.EqualTo(200), $"{method} {path}: {reply.Json}");
        return reply.Json;
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];
}
