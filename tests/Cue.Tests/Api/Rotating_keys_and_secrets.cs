using System.Text.Json;
using System.Text.RegularExpressions;
using Cue.Api.Accounts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>Key and webhook-secret rotation (§2, §5.1): confirmation, the new values, and what the old ones get afterwards.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed partial class Rotating_keys_and_secrets
{
    private CueStack stack = null!;
    private CueApiClient api = null!;

    [GeneratedRegex("^cue_test_[0-9A-Za-z]{32}$")]
    private static partial Regex TestKey();

    [GeneratedRegex("^whsec_[0-9a-f]{64}$")]
    private static partial Regex WebhookSecret();

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
    }

    [OneTimeTearDown]
    public void Dispose() => api.Dispose();

    private Uri Api => stack.Api.BaseAddress;

    [TestCase("/v1/auth/key/regenerate", null)]
    [TestCase("/v1/auth/key/regenerate", "false")]
    [TestCase("/v1/auth/key/regenerate", "yes")]
    [TestCase("/v1/auth/webhook-secret/regenerate", null)]
    [TestCase("/v1/auth/webhook-secret/regenerate", "0")]
    public async Task Without_the_confirmation_header_nothing_changes(string path, string? confirmValue)
    {
        var account = await api.RegisterAsync("test");
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, path, account.ApiKey, confirmValue: confirmValue);
        Assert.Multiple(() =>
        {
            Assert.That(reply.Status, Is.EqualTo(400));
            Assert.That(reply.Code(), Is.EqualTo("confirmation_required"));
            Assert.That(reply.Json.GetProperty("error").GetProperty("status").GetInt32(), Is.EqualTo(400));
        });

        var me = await api.GetAsync("/v1/auth/me", account.ApiKey);
        var secret = await api.GetAsync("/v1/auth/webhook-secret", account.ApiKey);
        Assert.Multiple(() =>
        {
            Assert.That(me.Status, Is.EqualTo(200), "the key still works");
            Assert.That(secret.Json.GetProperty("webhook_secret").GetString(), Is.EqualTo(account.WebhookSecret));
        });
    }

    [Test]
    public async Task A_new_key_replaces_the_old_one_at_once_and_the_old_one_gets_key_rotated()
    {
        var account = await api.RegisterAsync("test");
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/key/regenerate", account.ApiKey, confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        var key = reply.Json.GetProperty("api_key").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(reply.Json.Names(), Is.EquivalentTo(new[] { "api_key", "mode", "previous_key_revoked" }));
            Assert.That(TestKey().IsMatch(key), Is.True, key);
            Assert.That(key, Is.Not.EqualTo(account.ApiKey));
            Assert.That(reply.Json.GetProperty("mode").GetString(), Is.EqualTo("test"));
            Assert.That(reply.Json.GetProperty("previous_key_revoked").GetBoolean(), Is.True);
        });

        var old = await api.GetAsync("/v1/auth/me", account.ApiKey);
        var fresh = await api.GetAsync("/v1/auth/me", key);
        Assert.Multiple(() =>
        {
            Assert.That(old.Status, Is.EqualTo(401));
            Assert.That(old.Code(), Is.EqualTo("key_rotated"));
            Assert.That(old.Response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
            Assert.That(fresh.Status, Is.EqualTo(200));
            Assert.That(fresh.Json.GetProperty("api_key_prefix").GetString(), Is.EqualTo(key[..13]));
            Assert.That(fresh.Json.GetProperty("email").GetString(), Is.EqualTo(account.Email));
        });

        // The old key cannot rotate again either, and a key that never existed is still plain invalid.
        var again = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/key/regenerate", account.ApiKey, confirm: true);
        var unknown = await api.GetAsync("/v1/auth/me", "cue_test_" + new string('Z', 32));
        Assert.Multiple(() =>
        {
            Assert.That(again.Status, Is.EqualTo(401));
            Assert.That(again.Code(), Is.EqualTo("key_rotated"));
            Assert.That(unknown.Status, Is.EqualTo(401));
            Assert.That(unknown.Code(), Is.EqualTo("invalid_api_key"));
        });
    }

    [Test]
    public async Task A_live_account_gets_a_live_key()
    {
        var account = await api.RegisterAsync("live");
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/key/regenerate", account.ApiKey, "{}", confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(reply.Json.GetProperty("api_key").GetString(), Does.Match("^cue_live_[0-9A-Za-z]{32}$"));
            Assert.That(reply.Json.GetProperty("mode").GetString(), Is.EqualTo("live"));
        });

        var created = await api.PostAsync("/v1/cues", reply.Json.GetProperty("api_key").GetString(), new
        {
            name = "after-rotation",
            schedule = new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = "http://127.0.0.1:9/hook" },
        });
        Assert.That(created.Code(), Is.EqualTo("https_required"), "the new key keeps the live mode's rules");
    }

    [Test]
    public async Task Concurrent_rotations_with_one_key_leave_exactly_one_live_key()
    {
        var account = await api.RegisterAsync("test");
        var replies = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/key/regenerate", account.ApiKey, confirm: true)));
        var issued = replies.Where(r => r.Status == 200).Select(r => r.Json.GetProperty("api_key").GetString()!).ToList();
        Assert.That(replies.Where(r => r.Status != 200).Select(r => r.Code()), Is.All.EqualTo("key_rotated"));
        Assert.That(issued, Is.Not.Empty);

        var working = new List<string>();
        foreach (var key in issued)
        {
            if ((await api.GetAsync("/v1/auth/me", key)).Status == 200)
            {
                working.Add(key);
            }
        }

        Assert.That(working, Has.Count.EqualTo(1), "every key but the last issued must be refused");
    }

    [Test]
    public async Task Key_regeneration_takes_no_body_fields()
    {
        var account = await api.RegisterAsync("test");
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/key/regenerate", account.ApiKey, "{\"mode\": \"live\"}", confirm: true);
        Assert.Multiple(() =>
        {
            Assert.That(reply.Status, Is.EqualTo(422));
            Assert.That(reply.Code(), Is.EqualTo("validation_error"));
            Assert.That(reply.Json.GetProperty("error").GetProperty("details")[0].GetProperty("field").GetString(), Is.EqualTo("mode"));
        });
        Assert.That((await api.GetAsync("/v1/auth/me", account.ApiKey)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task The_webhook_secret_reads_back_with_no_previous_one()
    {
        var account = await api.RegisterAsync("test");
        var reply = await api.GetAsync("/v1/auth/webhook-secret", account.ApiKey);
        Assert.That(reply.Status, Is.EqualTo(200));
        Assert.Multiple(() =>
        {
            Assert.That(reply.Json.Names(), Is.EquivalentTo(new[] { "webhook_secret", "previous_secret_expires_at" }));
            Assert.That(reply.Json.GetProperty("webhook_secret").GetString(), Is.EqualTo(account.WebhookSecret));
            Assert.That(reply.Json.GetProperty("previous_secret_expires_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public async Task A_new_webhook_secret_keeps_the_old_one_for_a_day_by_default()
    {
        var account = await api.RegisterAsync("test");
        var before = DateTimeOffset.UtcNow;
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", account.ApiKey, confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        var secret = reply.Json.GetProperty("webhook_secret").GetString()!;
        var expires = reply.Json.GetProperty("previous_secret_expires_at").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(reply.Json.Names(), Is.EquivalentTo(new[] { "webhook_secret", "previous_secret_revoked", "previous_secret_expires_at" }));
            Assert.That(WebhookSecret().IsMatch(secret), Is.True, secret);
            Assert.That(secret, Is.Not.EqualTo(account.WebhookSecret));
            Assert.That(reply.Json.GetProperty("previous_secret_revoked").GetBoolean(), Is.False);
            Assert.That(expires, Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
            Assert.That(DateTimeOffset.Parse(expires, System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(before.AddDays(1)).Within(TimeSpan.FromSeconds(30)));
        });

        var read = await api.GetAsync("/v1/auth/webhook-secret", account.ApiKey);
        Assert.Multiple(() =>
        {
            Assert.That(read.Json.GetProperty("webhook_secret").GetString(), Is.EqualTo(secret));
            Assert.That(read.Json.GetProperty("previous_secret_expires_at").GetString(), Is.EqualTo(expires));
        });
    }

    [Test]
    public async Task A_grace_period_of_zero_revokes_the_old_secret_at_once()
    {
        var account = await api.RegisterAsync("test");
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", account.ApiKey,
            "{\"grace_period_seconds\": 0}", confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(reply.Json.GetProperty("previous_secret_revoked").GetBoolean(), Is.True);
            Assert.That(reply.Json.GetProperty("previous_secret_expires_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });

        var read = await api.GetAsync("/v1/auth/webhook-secret", account.ApiKey);
        Assert.Multiple(() =>
        {
            Assert.That(read.Json.GetProperty("webhook_secret").GetString(), Is.EqualTo(reply.Json.GetProperty("webhook_secret").GetString()));
            Assert.That(read.Json.GetProperty("previous_secret_expires_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public async Task The_previous_secret_shows_no_expiry_once_it_has_expired()
    {
        var account = await api.RegisterAsync("test");
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", account.ApiKey,
            "{\"grace_period_seconds\": 1}", confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.That(reply.Json.GetProperty("previous_secret_expires_at").ValueKind, Is.EqualTo(JsonValueKind.String));

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var read = await api.GetAsync("/v1/auth/webhook-secret", account.ApiKey);
        Assert.That(read.Json.GetProperty("previous_secret_expires_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [TestCase("{\"grace_period_seconds\": -1}", "grace_period_seconds")]
    [TestCase("{\"grace_period_seconds\": 604801}", "grace_period_seconds")]
    [TestCase("{\"grace_period_seconds\": \"60\"}", "grace_period_seconds")]
    [TestCase("{\"grace_period_seconds\": 1.5}", "grace_period_seconds")]
    [TestCase("{\"grace_period_seconds\": null}", "grace_period_seconds")]
    [TestCase("{\"grace_period\": 60}", "grace_period")]
    public async Task A_bad_grace_period_is_a_validation_error_and_changes_nothing(string body, string field)
    {
        var account = await api.RegisterAsync("test");
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", account.ApiKey, body, confirm: true);
        Assert.Multiple(() =>
        {
            Assert.That(reply.Status, Is.EqualTo(422));
            Assert.That(reply.Code(), Is.EqualTo("validation_error"));
            Assert.That(reply.Json.GetProperty("error").GetProperty("details")[0].GetProperty("field").GetString(), Is.EqualTo(field));
        });
        var read = await api.GetAsync("/v1/auth/webhook-secret", account.ApiKey);
        Assert.That(read.Json.GetProperty("webhook_secret").GetString(), Is.EqualTo(account.WebhookSecret));
    }

    [Test]
    public async Task The_longest_grace_period_is_a_week()
    {
        var account = await api.RegisterAsync("test");
        var before = DateTimeOffset.UtcNow;
        var reply = await AccountCalls.SendAsync(Api, HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", account.ApiKey,
            "{\"grace_period_seconds\": 604800}", confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        Assert.That(DateTimeOffset.Parse(reply.Json.GetProperty("previous_secret_expires_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(before.AddDays(7)).Within(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void A_rotated_key_is_recognised_for_24_hours_and_not_after()
    {
        var rotatedAt = new DateTimeOffset(2026, 3, 20, 16, 0, 0, TimeSpan.Zero);
        var rotated = new RotatedApiKey { Id = "hash", RotatedAt = rotatedAt };
        Assert.Multiple(() =>
        {
            Assert.That(rotated.IsRecognisedAt(rotatedAt), Is.True);
            Assert.That(rotated.IsRecognisedAt(rotatedAt.AddHours(24).AddMilliseconds(-1)), Is.True);
            Assert.That(rotated.IsRecognisedAt(rotatedAt.AddHours(24)), Is.False);
            Assert.That(rotated.IsRecognisedAt(rotatedAt.AddDays(30)), Is.False);
        });
    }
}
