using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>Contract §5.2: list filters and pages, get with executions, PATCH merge rules, delete and bulk delete.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Updating_and_deleting_cues
{
    private CueStack stack = null!;
    private CueApiClient api = null!;
    private CueApiClient.Account account = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
        account = await api.RegisterAsync("test");
    }

    [OneTimeTearDown]
    public void Dispose() => api.Dispose();

    private async Task<JsonElement> CreateAsync(object? schedule = null, string? name = null, object? extra = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["name"] = name ?? "c-" + Guid.NewGuid().ToString("N")[..10],
            ["schedule"] = schedule ?? new { type = "recurring", cron = "0 9 * * *", timezone = "Europe/Berlin" },
            ["callback"] = new { url = "http://127.0.0.1:9/hook", method = "PUT", headers = new Dictionary<string, string> { ["X-Team"] = "ops" } },
            ["payload"] = new { a = 1 },
        };
        if (extra is not null)
        {
            foreach (var property in JsonSerializer.SerializeToElement(extra).EnumerateObject())
            {
                body[property.Name] = property.Value;
            }
        }

        var created = await api.PostAsync("/v1/cues", account.ApiKey, body);
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        return created.Json;
    }

    private Task<CueApiClient.Reply> PatchAsync(string id, object body) => api.SendAsync(HttpMethod.Patch, $"/v1/cues/{id}", account.ApiKey, body);

    [Test]
    public async Task A_partial_callback_keeps_method_and_headers_and_a_partial_schedule_keeps_the_time_zone()
    {
        var cue = await CreateAsync();
        var id = cue.GetProperty("id").GetString()!;
        var reply = await PatchAsync(id, new { callback = new { url = "http://127.0.0.1:10/other" }, schedule = new { cron = "30 8 * * *" } });
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        var updated = reply.Json;
        Assert.Multiple(() =>
        {
            Assert.That(updated.GetProperty("callback").GetProperty("url").GetString(), Is.EqualTo("http://127.0.0.1:10/other"));
            Assert.That(updated.GetProperty("callback").GetProperty("method").GetString(), Is.EqualTo("PUT"));
            Assert.That(updated.GetProperty("callback").GetProperty("headers").GetProperty("X-Team").GetString(), Is.EqualTo("ops"));
            Assert.That(updated.GetProperty("schedule").GetProperty("timezone").GetString(), Is.EqualTo("Europe/Berlin"));
            Assert.That(updated.GetProperty("schedule").GetProperty("cron").GetString(), Is.EqualTo("30 8 * * *"));
            // 08:30 in Berlin is 07:30Z in winter and 06:30Z in summer.
            Assert.That(updated.GetProperty("next_run").GetString(), Does.EndWith(":30:00.000Z"));
            Assert.That(updated.GetProperty("updated_at").GetString(), Is.Not.EqualTo(cue.GetProperty("updated_at").GetString()));
        });

        var fetched = await api.GetAsync($"/v1/cues/{id}", account.ApiKey);
        Assert.That(fetched.Json.GetProperty("callback").GetProperty("url").GetString(), Is.EqualTo("http://127.0.0.1:10/other"));
    }

    [Test]
    public async Task An_empty_patch_changes_nothing_not_even_updated_at()
    {
        var cue = await CreateAsync();
        var reply = await PatchAsync(cue.GetProperty("id").GetString()!, new { });
        Assert.That(reply.Status, Is.EqualTo(200));
        Assert.That(reply.Json.GetProperty("updated_at").GetString(), Is.EqualTo(cue.GetProperty("updated_at").GetString()));
        var same = await PatchAsync(cue.GetProperty("id").GetString()!, new { name = cue.GetProperty("name").GetString(), payload = new { a = 1 } });
        Assert.That(same.Json.GetProperty("updated_at").GetString(), Is.EqualTo(cue.GetProperty("updated_at").GetString()), "the same values are no change");
    }

    [Test]
    public async Task Null_clears_nullable_fields_and_is_refused_elsewhere()
    {
        var cue = await CreateAsync(extra: new { description = "d", verification = new { mode = "manual" } });
        var id = cue.GetProperty("id").GetString()!;
        var cleared = await PatchAsync(id, new Dictionary<string, object?> { ["description"] = null, ["verification"] = null });
        Assert.That(cleared.Status, Is.EqualTo(200), cleared.Json.ToString());
        Assert.That(cleared.Json.GetProperty("description").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(cleared.Json.GetProperty("verification").GetProperty("mode").GetString(), Is.EqualTo("none"));

        foreach (var (field, body) in new (string, object)[]
                 {
                     ("name", new Dictionary<string, object?> { ["name"] = null }),
                     ("payload", new Dictionary<string, object?> { ["payload"] = null }),
                     ("callback.method", new { callback = new Dictionary<string, object?> { ["method"] = null } }),
                     ("retry.max_attempts", new { retry = new Dictionary<string, object?> { ["max_attempts"] = null } }),
                 })
        {
            var refused = await PatchAsync(id, body);
            Assert.That(refused.Status, Is.EqualTo(422), field);
            Assert.That(refused.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("validation_error"));
            Assert.That(refused.Json.GetProperty("error").GetProperty("details")[0].GetProperty("field").GetString(), Is.EqualTo(field));
        }
    }

    [Test]
    public async Task Status_pauses_and_resumes_and_nothing_else_is_accepted()
    {
        var cue = await CreateAsync();
        var id = cue.GetProperty("id").GetString()!;
        var paused = await PatchAsync(id, new { status = "paused" });
        Assert.That(paused.Json.GetProperty("status").GetString(), Is.EqualTo("paused"));
        Assert.That(paused.Json.GetProperty("next_run").ValueKind, Is.EqualTo(JsonValueKind.Null));

        var listed = await api.GetAsync("/v1/cues?status=paused&limit=100", account.ApiKey);
        Assert.That(listed.Json.GetProperty("cues").EnumerateArray().Select(c => c.GetProperty("id").GetString()), Does.Contain(id));

        var resumed = await PatchAsync(id, new { status = "active" });
        Assert.That(resumed.Json.GetProperty("status").GetString(), Is.EqualTo("active"));
        Assert.That(resumed.Json.GetProperty("next_run").GetString(), Does.EndWith(":00:00.000Z"));

        foreach (var status in new[] { "completed", "failed", "deleted" })
        {
            var refused = await PatchAsync(id, new { status });
            Assert.That(refused.Status, Is.EqualTo(422), status);
        }

        var transport = await PatchAsync(id, new { transport = "worker" });
        Assert.That(transport.Status, Is.EqualTo(422));
    }

    [Test]
    public async Task Changing_the_schedule_type_needs_the_other_field_and_clears_the_old_one()
    {
        var cue = await CreateAsync();
        var id = cue.GetProperty("id").GetString()!;
        var missing = await PatchAsync(id, new { schedule = new { type = "once" } });
        Assert.That(missing.Status, Is.EqualTo(400));
        Assert.That(missing.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("invalid_schedule"));

        var at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1));
        var once = await PatchAsync(id, new { schedule = new { type = "once", at } });
        Assert.That(once.Status, Is.EqualTo(200), once.Json.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(once.Json.GetProperty("schedule").GetProperty("cron").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(once.Json.GetProperty("schedule").GetProperty("at").GetString(), Is.EqualTo(at));
            Assert.That(once.Json.GetProperty("next_run").GetString(), Is.EqualTo(at));
        });

        var past = await PatchAsync(id, new { schedule = new { at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddMinutes(-1)) } });
        Assert.That(past.Status, Is.EqualTo(400));
        Assert.That(past.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("invalid_schedule"));
    }

    [Test]
    public async Task A_rename_to_a_taken_name_is_409_and_URLs_follow_the_key_mode()
    {
        var first = await CreateAsync();
        var second = await CreateAsync();
        var rename = await PatchAsync(second.GetProperty("id").GetString()!, new { name = first.GetProperty("name").GetString() });
        Assert.That(rename.Status, Is.EqualTo(409));
        Assert.That(rename.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("duplicate_cue_name"));

        var http = await PatchAsync(second.GetProperty("id").GetString()!, new { callback = new { url = "http://example.com/hook" } });
        Assert.That(http.Status, Is.EqualTo(400));
        Assert.That(http.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("https_required"));

        var blocked = await PatchAsync(second.GetProperty("id").GetString()!, new { on_failure = new { webhook = "https://10.0.0.1/hook" } });
        Assert.That(blocked.Status, Is.EqualTo(400));
        Assert.That(blocked.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("callback_url_blocked"));
        Assert.That(blocked.Json.GetProperty("error").GetProperty("message").GetString(), Does.StartWith("on_failure.webhook:"));
    }

    [Test]
    public async Task Delete_answers_204_then_the_cue_is_gone_and_its_name_is_free()
    {
        var cue = await CreateAsync();
        var id = cue.GetProperty("id").GetString()!;
        var deleted = await api.SendAsync(HttpMethod.Delete, $"/v1/cues/{id}", account.ApiKey, null);
        Assert.That(deleted.Status, Is.EqualTo(204));
        Assert.That(await deleted.Response.Content.ReadAsByteArrayAsync(), Is.Empty);

        var gone = await api.GetAsync($"/v1/cues/{id}", account.ApiKey);
        Assert.That(gone.Status, Is.EqualTo(404));
        Assert.That(gone.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("cue_not_found"));
        var again = await api.SendAsync(HttpMethod.Delete, $"/v1/cues/{id}", account.ApiKey, null);
        Assert.That(again.Status, Is.EqualTo(404));
        await CreateAsync(name: cue.GetProperty("name").GetString());
    }

    [Test]
    public async Task Bulk_delete_needs_confirmation_and_reports_what_it_skipped()
    {
        var a = (await CreateAsync()).GetProperty("id").GetString()!;
        var b = (await CreateAsync()).GetProperty("id").GetString()!;
        var unconfirmed = await api.PostAsync("/v1/cues/bulk-delete", account.ApiKey, new { ids = new[] { a } });
        Assert.That(unconfirmed.Status, Is.EqualTo(400));
        Assert.That(unconfirmed.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("confirmation_required"));

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(stack.Api.BaseAddress, "/v1/cues/bulk-delete"));
        request.Headers.Authorization = new("Bearer", account.ApiKey);
        request.Headers.Add("X-Confirm-Destructive", "true");
        request.Content = System.Net.Http.Json.JsonContent.Create(new { ids = new[] { a, b, "cue_000000000000", "nonsense" } });
        using var http = new HttpClient();
        using var response = await http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That((int)response.StatusCode, Is.EqualTo(200), body.ToString());
        Assert.That(body.GetProperty("deleted").EnumerateArray().Select(e => e.GetString()), Is.EquivalentTo(new[] { a, b }));
        Assert.That(body.GetProperty("skipped").EnumerateArray().Select(e => e.GetString()), Is.EquivalentTo(new[] { "cue_000000000000", "nonsense" }));
        Assert.That((await api.GetAsync($"/v1/cues/{a}", account.ApiKey)).Status, Is.EqualTo(404));
    }

    [Test]
    public async Task Lists_page_newest_first_with_totals_and_reject_unknown_filters()
    {
        var own = await api.RegisterAsync("test");
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var created = await api.PostAsync("/v1/cues", own.ApiKey, new
            {
                name = $"page-{i}",
                schedule = new { type = "recurring", cron = "0 0 * * *" },
                callback = new { url = "http://127.0.0.1:9/hook" },
            });
            ids.Add(created.Json.GetProperty("id").GetString()!);
        }

        var seen = new List<string>();
        for (var offset = 0; ; offset += 3)
        {
            var page = await api.GetAsync($"/v1/cues?limit=3&offset={offset}", own.ApiKey);
            Assert.That(page.Status, Is.EqualTo(200));
            Assert.Multiple(() =>
            {
                Assert.That(page.Json.GetProperty("total").GetInt32(), Is.EqualTo(7));
                Assert.That(page.Json.GetProperty("limit").GetInt32(), Is.EqualTo(3));
                Assert.That(page.Json.GetProperty("offset").GetInt32(), Is.EqualTo(offset));
            });
            seen.AddRange(page.Json.GetProperty("cues").EnumerateArray().Select(c => c.GetProperty("id").GetString()!));
            if (!page.Json.GetProperty("has_more").GetBoolean())
            {
                break;
            }
        }

        Assert.That(seen, Is.EqualTo(Enumerable.Reverse(ids)), "newest first, every cue once");

        var bad = await api.GetAsync("/v1/cues?status=running", own.ApiKey);
        Assert.That(bad.Status, Is.EqualTo(400));
        Assert.That(bad.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("invalid_filter"));
        foreach (var query in new[] { "limit=0", "limit=101", "offset=-1", "limit=x" })
        {
            Assert.That((await api.GetAsync("/v1/cues?" + query, own.ApiKey)).Status, Is.EqualTo(422), query);
        }
    }
}
