using System.Globalization;
using Cue.Contracts;
using Cue.Delivery.Signing;
using Cue.Tests.Api;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// §9.4 rotation overlap, through the whole pipe: after a webhook secret rotation with a grace period,
/// deliveries carry <c>v1=&lt;new&gt; v1=&lt;old&gt;</c>; with no grace period, only the new one.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Rotating_the_webhook_secret
{
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
    public async Task During_the_grace_period_deliveries_are_signed_with_the_new_secret_then_the_old()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        var rotated = await RegenerateAsync(account.ApiKey, "{\"grace_period_seconds\": 3600}");

        var hook = await FireOnceAsync(account.ApiKey, receiver);
        var entries = hook.Header("X-Cue-Signature").Split(' ');
        var timestamp = long.Parse(hook.Header("X-Cue-Timestamp"), CultureInfo.InvariantCulture);
        Assert.That(entries, Has.Length.EqualTo(2), hook.Header("X-Cue-Signature"));
        Assert.Multiple(() =>
        {
            Assert.That(entries[0], Is.EqualTo(WebhookSigner.Signature(rotated, timestamp, hook.Body)), "first entry: the new secret");
            Assert.That(entries[1], Is.EqualTo(WebhookSigner.Signature(account.WebhookSecret, timestamp, hook.Body)), "second entry: the previous secret");
            Assert.That(WebhookSigner.Verify(entries[0], [account.WebhookSecret], timestamp, hook.Body), Is.False);
            Assert.That(WebhookSigner.Verify(entries[1], [rotated], timestamp, hook.Body), Is.False);
        });
    }

    [Test]
    public async Task Rotating_again_in_the_grace_period_drops_the_oldest_secret()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        var second = await RegenerateAsync(account.ApiKey, "{\"grace_period_seconds\": 3600}");
        var third = await RegenerateAsync(account.ApiKey, "{\"grace_period_seconds\": 3600}");

        var hook = await FireOnceAsync(account.ApiKey, receiver);
        var entries = hook.Header("X-Cue-Signature").Split(' ');
        var timestamp = long.Parse(hook.Header("X-Cue-Timestamp"), CultureInfo.InvariantCulture);
        Assert.That(entries, Has.Length.EqualTo(2), hook.Header("X-Cue-Signature"));
        Assert.Multiple(() =>
        {
            Assert.That(entries[0], Is.EqualTo(WebhookSigner.Signature(third, timestamp, hook.Body)));
            Assert.That(entries[1], Is.EqualTo(WebhookSigner.Signature(second, timestamp, hook.Body)));
            Assert.That(WebhookSigner.Verify(hook.Header("X-Cue-Signature"), [account.WebhookSecret], timestamp, hook.Body), Is.False,
                "the first secret is no longer valid");
        });
    }

    [Test]
    public async Task With_no_grace_period_deliveries_carry_one_signature_by_the_new_secret()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        var rotated = await RegenerateAsync(account.ApiKey, "{\"grace_period_seconds\": 0}");

        var hook = await FireOnceAsync(account.ApiKey, receiver);
        var header = hook.Header("X-Cue-Signature");
        var timestamp = long.Parse(hook.Header("X-Cue-Timestamp"), CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            Assert.That(header, Does.Match("^v1=[0-9a-f]{64}$"), "exactly one entry");
            Assert.That(header, Is.EqualTo(WebhookSigner.Signature(rotated, timestamp, hook.Body)));
            Assert.That(WebhookSigner.Verify(header, [account.WebhookSecret], timestamp, hook.Body), Is.False);
        });
    }

    private async Task<string> RegenerateAsync(string apiKey, string body)
    {
        var reply = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Post, "/v1/auth/webhook-secret/regenerate", apiKey, body, confirm: true);
        Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
        return reply.Json.GetProperty("webhook_secret").GetString()!;
    }

    private async Task<ReceivedWebhook> FireOnceAsync(string apiKey, WebhookReceiver receiver)
    {
        var created = await api.PostAsync("/v1/cues", apiKey, new
        {
            name = "rotation-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddSeconds(1)) },
            callback = new { url = receiver.Url.ToString() },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var received = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(20));
        Assert.That(received, Has.Count.EqualTo(1), stack.Logs());
        return received[0];
    }
}
