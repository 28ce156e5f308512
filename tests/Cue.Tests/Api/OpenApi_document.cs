using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cue.Api.Hosting.OpenApi;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// The OpenAPI document is held to three things it could drift from: the contract's list of routes,
/// the routes the running app actually serves, and the shape of real responses.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed partial class OpenApi_document
{
    /// <summary>Contract §5's table, every method and path, the reserved worker routes included.</summary>
    private static readonly string[] ContractRoutes =
    [
        "POST /v1/auth/register",
        "GET /v1/auth/me",
        "POST /v1/auth/key/regenerate",
        "GET /v1/auth/webhook-secret",
        "POST /v1/auth/webhook-secret/regenerate",
        "POST /v1/cues",
        "GET /v1/cues",
        "GET /v1/cues/{id}",
        "PATCH /v1/cues/{id}",
        "DELETE /v1/cues/{id}",
        "POST /v1/cues/bulk-delete",
        "POST /v1/cues/{id}/fire",
        "GET /v1/executions",
        "GET /v1/executions/{id}",
        "GET /v1/executions/{id}/attempts",
        "POST /v1/executions/{id}/outcome",
        "POST /v1/executions/{id}/replay",
        "POST /v1/executions/{id}/verify",
        "POST /v1/executions/{id}/verification-pending",
        "PATCH /v1/executions/{id}/evidence",
        "GET /v1/usage",
        "GET /v1/info",
        "GET /health",
        "GET /status",
        "GET /v1/executions/claimable",
        "POST /v1/executions/claim",
        "POST /v1/executions/{id}/claim",
        "POST /v1/executions/{id}/heartbeat",
        "POST /v1/worker/heartbeat",
        "GET /v1/workers",
        "DELETE /v1/workers/{id}",
    ];

    private CueStack stack = null!;
    private CueApiClient api = null!;
    private HttpClient http = null!;
    private JsonElement document;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
        http = new HttpClient { BaseAddress = stack.Api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        // Public: no key.
        using var response = await http.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(response.Headers.Contains("X-Request-Id"), Is.True);
        document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [OneTimeTearDown]
    public void Dispose()
    {
        api.Dispose();
        http.Dispose();
    }

    [Test]
    public void The_table_documents_exactly_the_contracts_routes()
    {
        Assert.That(OperationDocs.All.Keys, Is.EquivalentTo(ContractRoutes));
    }

    [Test]
    public void Every_operation_in_the_document_carries_its_table_entry()
    {
        var operations = Operations().ToList();
        Assert.That(operations, Is.Not.Empty);
        foreach (var (key, operation) in operations)
        {
            Assert.That(OperationDocs.All.TryGetValue(key, out var doc), Is.True, $"{key} is served but has no entry in OperationDocs");
            Assert.That(operation.GetProperty("summary").GetString(), Is.EqualTo(doc!.Summary), key);
            Assert.That(operation.GetProperty("description").GetString(), Is.EqualTo(doc.Description), key);

            var responses = operation.GetProperty("responses");
            var expected = doc.Errors.Select(e => e.Status).Append(doc.Success).Distinct().Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.That(responses.EnumerateObject().Select(r => r.Name), Is.EquivalentTo(expected), key);

            var success = responses.GetProperty(doc.Success.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (doc.Response is null)
            {
                Assert.That(success.TryGetProperty("content", out _), Is.False, key);
            }
            else
            {
                Assert.That(SchemaRef(success), Is.EqualTo(doc.Response), key);
            }

            foreach (var error in doc.Errors)
            {
                var response = responses.GetProperty(error.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Assert.That(SchemaRef(response), Is.EqualTo(doc.ErrorSchema), $"{key} {error.Status}");
                Assert.That(response.GetProperty("description").GetString(), Does.Contain($"`{error.Code}`"), $"{key} {error.Status}");
            }

            var security = operation.TryGetProperty("security", out var s) ? s.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToList() : [];
            Assert.That(security, doc.Auth ? Is.EqualTo(new[] { "bearer" }) : Is.Empty, key);

            if (doc.Request is not null)
            {
                Assert.That(operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString(),
                    Is.EqualTo("#/components/schemas/" + doc.Request), key);
            }
        }
    }

    [Test]
    public void Every_schema_the_table_names_is_in_the_document()
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var named = OperationDocs.All.Values.SelectMany(d => new[] { d.Response, d.Request, d.ErrorSchema }).OfType<string>().Distinct();
        foreach (var name in named)
        {
            Assert.That(schemas.TryGetProperty(name, out _), Is.True, name);
        }
    }

    [Test]
    public async Task The_document_lists_exactly_the_routes_the_app_serves()
    {
        // A route is served when a real request to it is not refused by routing (404 not_found or 405).
        // The probe account is its own, and the key regeneration goes last and without its confirmation.
        var probe = await api.RegisterAsync("test");
        var documented = Operations().Select(o => o.Key).ToHashSet();
        var ordered = ContractRoutes.OrderBy(r => r == "POST /v1/auth/key/regenerate");
        var served = new List<string>();
        foreach (var route in ordered)
        {
            var (method, pattern) = (route.Split(' ')[0], route.Split(' ')[1]);
            var id = pattern.StartsWith("/v1/cues", StringComparison.Ordinal) ? "cue_000000000000"
                : pattern.StartsWith("/v1/workers", StringComparison.Ordinal) ? "w1"
                : Guid.NewGuid().ToString("D");
            using var request = new HttpRequestMessage(new HttpMethod(method), pattern.Replace("{id}", id, StringComparison.Ordinal));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", probe.ApiKey);
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var refused = (int)response.StatusCode == 405 || ((int)response.StatusCode == 404 && text.Contains("\"not_found\"", StringComparison.Ordinal));
            if (!refused)
            {
                served.Add(route);
            }
        }

        TestContext.Out.WriteLine("Not served yet: " + string.Join(", ", ContractRoutes.Except(served)));
        Assert.That(documented, Is.EquivalentTo(served));
    }

    [Test]
    public async Task The_documented_schemas_match_real_responses()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var register = await api.PostAsync("/v1/auth/register", null, new { email = $"t{Guid.NewGuid():N}@example.com", mode = "test" });
        Assert.That(register.Status, Is.EqualTo(201));
        Conforms("Registration", register.Json);
        var key = register.Json.GetProperty("api_key").GetString()!;

        var at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(1));
        var created = await api.PostAsync("/v1/cues", key, new
        {
            name = "openapi-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "once", at },
            callback = new { url = receiver.Url.ToString() },
            payload = new { n = 1 },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        Conforms("Cue", created.Json);
        ExactlyRequired("Cue");
        var cueId = created.Json.GetProperty("id").GetString()!;

        var cues = await api.GetAsync("/v1/cues", key);
        Assert.That(cues.Json.GetProperty("cues").GetArrayLength(), Is.EqualTo(1));
        Conforms("CueList", cues.Json);

        var executions = await api.PollAsync($"/v1/executions?cue_id={cueId}", key,
            j => j.GetProperty("executions").GetArrayLength() == 1 && j.GetProperty("executions")[0].GetProperty("status").GetString() == "success",
            TimeSpan.FromSeconds(20));
        Assert.That(executions.GetProperty("executions").GetArrayLength(), Is.EqualTo(1), stack.Logs());
        Conforms("ExecutionList", executions);
        ExactlyRequired("Execution");

        var executionId = executions.GetProperty("executions")[0].GetProperty("id").GetString()!;
        var execution = await api.GetAsync("/v1/executions/" + executionId, key);
        Conforms("Execution", execution.Json);
        var attempts = await api.GetAsync($"/v1/executions/{executionId}/attempts", key);
        Assert.That(attempts.Json.GetProperty("attempts").GetArrayLength(), Is.EqualTo(1));
        Conforms("AttemptList", attempts.Json);

        Conforms("Info", (await api.GetAsync("/v1/info", null)).Json);
        Conforms("Health", (await api.GetAsync("/health", null)).Json);
        Conforms("Status", (await api.GetAsync("/status", null)).Json);
        Conforms("Error", (await api.GetAsync("/v1/nope", null)).Json);
        var invalid = await api.PostAsync("/v1/auth/register", null, new { email = "a@example.com", extra = 1 });
        Assert.That(invalid.Status, Is.EqualTo(422));
        Conforms("Error", invalid.Json);
    }

    [Test]
    public async Task The_other_documented_schemas_match_real_responses()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var key = (await api.RegisterAsync("test")).ApiKey;

        // §5.1 account: me, the webhook secret outside and inside a grace period, both kinds of rotation.
        Conforms("Me", await OkAsync(HttpMethod.Get, "/v1/auth/me", key));
        var secret = await OkAsync(HttpMethod.Get, "/v1/auth/webhook-secret", key);
        Assert.That(secret.GetProperty("previous_secret_expires_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Conforms("WebhookSecret", secret);
        var rotated = await OkAsync(HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", key, confirm: true);
        Assert.That(rotated.GetProperty("previous_secret_expires_at").ValueKind, Is.EqualTo(JsonValueKind.String));
        Conforms("WebhookSecretRegenerated", rotated);
        var graced = await OkAsync(HttpMethod.Get, "/v1/auth/webhook-secret", key);
        Assert.That(graced.GetProperty("previous_secret_expires_at").ValueKind, Is.EqualTo(JsonValueKind.String));
        Conforms("WebhookSecret", graced);
        var revoked = await OkAsync(HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", key, """{"grace_period_seconds": 0}""", confirm: true);
        Assert.That(revoked.GetProperty("previous_secret_revoked").GetBoolean(), Is.True);
        Conforms("WebhookSecretRegenerated", revoked);

        // §5.2 cues: PATCH (a change and a no-op), fire, bulk delete.
        var cueId = (await OkAsync(HttpMethod.Post, "/v1/cues", key, JsonSerializer.Serialize(new
        {
            name = "openapi-more-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = receiver.Url.ToString() },
            retry = new { max_attempts = 1 },
        }), status: 201)).GetProperty("id").GetString()!;
        Conforms("Cue", await OkAsync(HttpMethod.Patch, $"/v1/cues/{cueId}", key, """{"description": "patched", "on_failure": {"webhook": null}}"""));
        Conforms("Cue", await OkAsync(HttpMethod.Patch, $"/v1/cues/{cueId}", key, "{}"));

        var fired = await OkAsync(HttpMethod.Post, $"/v1/cues/{cueId}/fire", key, """{"payload_override": {"n": 1}}""");
        Conforms("FiredExecution", fired);
        var executionId = fired.GetProperty("execution_id").GetString()!;
        var delivered = await api.PollAsync($"/v1/executions/{executionId}", key, j => j.GetProperty("status").GetString() == "success", TimeSpan.FromSeconds(20));
        Assert.That(delivered.GetProperty("status").GetString(), Is.EqualTo("success"), stack.Logs());

        // §5.3 the receiver's side, every response shape, and an Execution carrying a full outcome object.
        Conforms("OutcomeRecorded", await OkAsync(HttpMethod.Post, $"/v1/executions/{executionId}/outcome", key, """
            {"success": true, "result": "ok", "metadata": {"rows": 3}, "external_id": "x-1", "result_url": "https://example.com/r/1",
             "result_ref": "r1", "result_type": "report", "summary": "done", "artifacts": [{"name": "a.csv"}, "b", 3]}
            """));
        Conforms("VerificationPendingResult", await OkAsync(HttpMethod.Post, $"/v1/executions/{executionId}/verification-pending", key));
        Conforms("EvidenceUpdated", await OkAsync(HttpMethod.Patch, $"/v1/executions/{executionId}/evidence", key, """{"summary": "more", "external_id": "x-2"}"""));
        var verified = await OkAsync(HttpMethod.Post, $"/v1/executions/{executionId}/verify", key, """{"valid": false, "reason": "checked by hand"}""");
        Assert.That(verified.GetProperty("reason").GetString(), Is.EqualTo("checked by hand"));
        Conforms("VerifyResult", verified);
        var execution = await OkAsync(HttpMethod.Get, $"/v1/executions/{executionId}", key);
        Assert.That(execution.GetProperty("outcome").ValueKind, Is.EqualTo(JsonValueKind.Object));
        Conforms("Execution", execution);
        Conforms("Outcome", execution.GetProperty("outcome"));

        var pending = await OkAsync(HttpMethod.Post, $"/v1/cues/{cueId}/fire", key, JsonSerializer.Serialize(new { send_at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddHours(1)) }));
        Conforms("FiredExecution", pending);
        var pendingId = pending.GetProperty("id").GetString()!;
        await OkAsync(HttpMethod.Post, $"/v1/executions/{pendingId}/outcome", key, """{"success": false}""");
        var bare = await OkAsync(HttpMethod.Post, $"/v1/executions/{pendingId}/verify", key);
        Assert.That(bare.GetProperty("reason").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Conforms("VerifyResult", bare);

        var replay = await OkAsync(HttpMethod.Post, $"/v1/executions/{executionId}/replay", key);
        Assert.That(replay.GetProperty("replayed_from").GetString(), Is.EqualTo(executionId));
        Conforms("FiredExecution", replay);

        // A failed attempt: a status, an error message, a retryable result.
        await using var failing = await WebhookReceiver.StartAsync(500);
        var failingCue = (await OkAsync(HttpMethod.Post, "/v1/cues", key, JsonSerializer.Serialize(new
        {
            name = "openapi-fail-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = failing.Url.ToString() },
            retry = new { max_attempts = 1 },
        }), status: 201)).GetProperty("id").GetString()!;
        var failedId = (await OkAsync(HttpMethod.Post, $"/v1/cues/{failingCue}/fire", key)).GetProperty("id").GetString()!;
        var failed = await api.PollAsync($"/v1/executions/{failedId}", key, j => j.GetProperty("status").GetString() == "failed", TimeSpan.FromSeconds(20));
        Assert.That(failed.GetProperty("status").GetString(), Is.EqualTo("failed"), stack.Logs());
        Conforms("Execution", failed);
        var failedAttempts = await OkAsync(HttpMethod.Get, $"/v1/executions/{failedId}/attempts", key);
        Assert.That(failedAttempts.GetProperty("attempts")[0].GetProperty("result").GetString(), Is.EqualTo("retryable_failure"));
        Conforms("AttemptList", failedAttempts);
        await OkAsync(HttpMethod.Delete, $"/v1/cues/{failingCue}", key, status: 204);

        // GET /v1/cues/{id} with its embedded executions, outcomes included.
        var detail = await OkAsync(HttpMethod.Get, $"/v1/cues/{cueId}", key);
        Assert.That(detail.GetProperty("executions").GetArrayLength(), Is.EqualTo(3));
        Conforms("CueDetail", detail);

        // §5.4 usage, with executions and outcomes to count.
        Conforms("Usage", await OkAsync(HttpMethod.Get, "/v1/usage", key));

        var other = (await OkAsync(HttpMethod.Post, "/v1/cues", key, JsonSerializer.Serialize(new
        {
            name = "openapi-bulk-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = receiver.Url.ToString() },
        }), status: 201)).GetProperty("id").GetString()!;
        var bulk = await OkAsync(HttpMethod.Post, "/v1/cues/bulk-delete", key, JsonSerializer.Serialize(new { ids = new[] { other, cueId, "cue_000000000000" } }), confirm: true);
        Assert.That(bulk.GetProperty("skipped").GetArrayLength(), Is.EqualTo(1));
        Conforms("BulkDeleteResult", bulk);

        // Last: the key it replaces is the one this test used.
        Conforms("KeyRegenerated", await OkAsync(HttpMethod.Post, "/v1/auth/key/regenerate", key, confirm: true));

        foreach (var name in new[]
                 {
                     "Me", "WebhookSecret", "WebhookSecretRegenerated", "KeyRegenerated", "CueDetail", "FiredExecution", "Outcome", "OutcomeRecorded",
                     "VerifyResult", "VerificationPendingResult", "EvidenceUpdated", "BulkDeleteResult", "Usage", "AttemptList", "Attempt", "CueList",
                     "ExecutionList", "Registration", "Info", "Health",
                 })
        {
            ExactlyRequired(name);
        }
    }

    private async Task<JsonElement> OkAsync(HttpMethod method, string path, string key, string? body = null, bool confirm = false, int status = 200)
    {
        var reply = await AccountCalls.SendAsync(stack.Api.BaseAddress, method, path, key, body, confirm);
        Assert.That(reply.Status, Is.EqualTo(status), $"{method} {path}: {reply.Json}");
        return reply.Json;
    }

    [Test]
    public async Task The_reference_page_and_every_asset_it_loads_are_served_by_Cue()
    {
        using var page = await http.GetAsync(new Uri("/docs", UriKind.Relative));
        var html = await page.Content.ReadAsStringAsync();
        Assert.That((int)page.StatusCode, Is.EqualTo(200));
        Assert.That(page.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        var pageUri = page.RequestMessage!.RequestUri!;
        Assert.That(pageUri.Authority, Is.EqualTo(stack.Api.BaseAddress.Authority));

        var assets = AssetReference().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.That(assets, Has.Some.EndsWith(".js"));
        Assert.That(assets, Has.Some.EndsWith(".css"));
        foreach (var asset in assets)
        {
            var uri = new Uri(pageUri, asset);
            Assert.That(uri.Authority, Is.EqualTo(pageUri.Authority), $"{asset} is not served by Cue");
            using var response = await http.GetAsync(uri);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.That((int)response.StatusCode, Is.EqualTo(200), asset);
            Assert.That(body, Is.Not.Empty, asset);
        }

        // The page's script points the UI at the app's own document.
        using var script = await http.GetAsync(new Uri(pageUri, "index.js"));
        Assert.That(await script.Content.ReadAsStringAsync(), Does.Contain("\"/openapi/v1.json\""));
    }

    /// <summary>§1: RFC 3339 UTC with milliseconds.</summary>
    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")]
    private static partial Regex WireTimestamp();

    [GeneratedRegex("(?:src|href)=\"([^\"]+)\"")]
    private static partial Regex AssetReference();

    private IEnumerable<(string Key, JsonElement Operation)> Operations()
    {
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                yield return (operation.Name.ToUpperInvariant() + " " + path.Name, operation.Value);
            }
        }
    }

    private static string? SchemaRef(JsonElement response) =>
        response.TryGetProperty("content", out var content)
            ? content.GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString()!.Replace("#/components/schemas/", "", StringComparison.Ordinal)
            : null;

    private JsonElement Schema(string name) => document.GetProperty("components").GetProperty("schemas").GetProperty(name);

    /// <summary>§1: every documented field of these objects is always present, so every property is required.</summary>
    private void ExactlyRequired(string name)
    {
        var schema = Schema(name);
        Assert.That(schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()),
            Is.EquivalentTo(schema.GetProperty("properties").EnumerateObject().Select(p => p.Name)), name);
    }

    private void Conforms(string name, JsonElement value)
    {
        var problems = new List<string>();
        Check(Schema(name), value, name, problems);
        Assert.That(problems, Is.Empty, $"{name} drifted from the real response {value}");
    }

    private JsonElement Resolve(JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? Schema(reference.GetString()!.Replace("#/components/schemas/", "", StringComparison.Ordinal))
            : schema;

    private static List<string> Types(JsonElement schema) =>
        !schema.TryGetProperty("type", out var type) ? []
        : type.ValueKind == JsonValueKind.Array ? [.. type.EnumerateArray().Select(t => t.GetString()!)]
        : [type.GetString()!];

    private void Check(JsonElement schema, JsonElement value, string path, List<string> problems)
    {
        schema = Resolve(schema);
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var branches = oneOf.EnumerateArray().Select(Resolve).ToList();
            var nullBranch = branches.Any(b => Types(b) is ["null"]);
            if (value.ValueKind == JsonValueKind.Null)
            {
                if (!nullBranch)
                {
                    problems.Add($"{path} is null but not documented as nullable");
                }

                return;
            }

            Check(branches.First(b => Types(b) is not ["null"]), value, path, problems);
            return;
        }

        var types = Types(schema);
        if (types.Count > 0 && !types.Any(t => Matches(t, value)))
        {
            problems.Add($"{path} is {value.ValueKind} but documented as {string.Join("|", types)}");
            return;
        }

        if (value.ValueKind == JsonValueKind.String && schema.TryGetProperty("format", out var format) && format.GetString() == "date-time"
            && !WireTimestamp().IsMatch(value.GetString()!))
        {
            problems.Add($"{path} is '{value.GetString()}', not a §1 timestamp");
        }

        if (value.ValueKind == JsonValueKind.String && schema.TryGetProperty("enum", out var values)
            && !values.EnumerateArray().Any(v => v.GetString() == value.GetString()))
        {
            problems.Add($"{path} is '{value.GetString()}', not one of the documented values");
        }

        if (value.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties))
        {
            var documented = properties.EnumerateObject().Select(p => p.Name).ToHashSet();
            var actual = value.EnumerateObject().Select(p => p.Name).ToHashSet();
            problems.AddRange(actual.Except(documented).Select(k => $"{path}.{k} is in the response but not documented"));
            var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!) : [];
            problems.AddRange(required.Except(actual).Select(k => $"{path}.{k} is documented as always present but missing"));
            foreach (var member in value.EnumerateObject().Where(m => documented.Contains(m.Name)))
            {
                Check(properties.GetProperty(member.Name), member.Value, path + "." + member.Name, problems);
            }
        }

        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                Check(items, item, $"{path}[{i++}]", problems);
            }
        }
    }

    private static bool Matches(string type, JsonElement value) => type switch
    {
        "null" => value.ValueKind == JsonValueKind.Null,
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        _ => false,
    };
}
