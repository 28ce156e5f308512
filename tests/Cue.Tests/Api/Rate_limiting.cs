using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// §4 rate limits. The shared stack runs with generous limits (the suite is one busy client), so the
/// limits themselves are tested on an API process of this fixture's own: 3 requests per key, 4 per IP
/// without a key, 2 registrations per IP, in a 3-second window, and registration turned off.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Rate_limiting
{
    private const int PerKey = 3;
    private const int Anonymous = 4;
    private const int Registrations = 2;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    private CueStack stack = null!;
    private CueApiClient shared = null!;
    private CueProcess limited = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        shared = new CueApiClient(stack.Api.BaseAddress);
        var (postgres, rabbit) = await TestServices.GetAsync();
        limited = new CueProcess("Cue.Api", CueStack.FreePort(), new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = postgres,
            ["ConnectionStrings__RabbitMq"] = rabbit,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Accounts__RegistrationEnabled"] = "false",
            ["Accounts__RateLimitPerMinute"] = PerKey.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits__AnonymousPerMinute"] = Anonymous.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits__RegisterPerMinute"] = Registrations.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits__Window"] = Window.ToString(),
        });
        await limited.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        shared.Dispose();
        await limited.DisposeAsync();
    }

    private Task<CueApiClient.Reply> LimitedAsync(HttpMethod method, string path, string? key, string? body = null) =>
        AccountCalls.SendAsync(limited.BaseAddress, method, path, key, body);

    /// <summary>Lets every window of this fixture's API empty, so each test starts from a full allowance.</summary>
    private static Task FreshWindowsAsync() => Task.Delay(Window + TimeSpan.FromSeconds(1.2));

    [Test]
    public async Task Every_response_but_the_exempt_ones_carries_the_rate_limit_headers()
    {
        var account = await shared.RegisterAsync("test");
        var first = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Get, "/v1/auth/me", account.ApiKey);
        var second = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Get, "/v1/cues", account.ApiKey);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Multiple(() =>
        {
            Assert.That(first.LongHeader("X-RateLimit-Limit"), Is.EqualTo(1_000_000));
            Assert.That(second.LongHeader("X-RateLimit-Limit"), Is.EqualTo(1_000_000));
            // The key's own window: nobody else spends it.
            Assert.That(first.LongHeader("X-RateLimit-Remaining"), Is.EqualTo(999_999));
            Assert.That(second.LongHeader("X-RateLimit-Remaining"), Is.EqualTo(999_998));
            Assert.That(second.LongHeader("X-RateLimit-Reset"), Is.InRange(now, now + 61));
        });

        foreach (var (path, key) in new[] { ("/v1/no-such-thing", null), ("/v1/cues", null), ("/v1/cues", "cue_test_" + new string('x', 32)), ("/v1/nope", account.ApiKey) })
        {
            var reply = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Get, path, key);
            Assert.Multiple(() =>
            {
                Assert.That(reply.Status, Is.EqualTo(path == "/v1/cues" ? 401 : 404), path);
                Assert.That(reply.Header("X-RateLimit-Limit"), Is.Not.Null, $"{path} {reply.Status}");
                Assert.That(reply.Header("X-RateLimit-Remaining"), Is.Not.Null, $"{path} {reply.Status}");
                Assert.That(reply.Header("X-RateLimit-Reset"), Is.Not.Null, $"{path} {reply.Status}");
            });
        }

        foreach (var path in new[] { "/health", "/status", "/health/live", "/health/ready" })
        {
            var reply = await AccountCalls.SendAsync(stack.Api.BaseAddress, HttpMethod.Get, path, null);
            Assert.That(reply.Header("X-RateLimit-Limit"), Is.Null, path);
        }
    }

    [Test]
    public async Task Defaults_are_300_per_key_60_per_ip_and_10_registrations_in_a_60_second_window()
    {
        var accounts = new Cue.Api.Accounts.AccountOptions();
        var limits = new Cue.Api.Accounts.RateLimitsOptions();
        Assert.Multiple(() =>
        {
            Assert.That(accounts.RateLimitPerMinute, Is.EqualTo(300));
            Assert.That(accounts.RegistrationEnabled, Is.True);
            Assert.That(accounts.ActiveCueLimit, Is.EqualTo(1_000));
            Assert.That(accounts.MonthlyExecutionLimit, Is.EqualTo(1_000_000));
            Assert.That(limits.AnonymousPerMinute, Is.EqualTo(60));
            Assert.That(limits.RegisterPerMinute, Is.EqualTo(10));
            Assert.That(limits.Window, Is.EqualTo(TimeSpan.FromMinutes(1)));
        });

        // And the API reports the configured limit, not a constant.
        var account = await shared.RegisterAsync("test");
        var me = await LimitedAsync(HttpMethod.Get, "/v1/auth/me", account.ApiKey);
        Assert.That(me.Json.Integer("rate_limit_per_minute"), Is.EqualTo(PerKey));
    }

    [Test]
    public async Task A_key_over_its_limit_gets_429_with_retry_after_and_rejections_do_not_use_up_the_window()
    {
        var account = await shared.RegisterAsync("test");
        var other = await shared.RegisterAsync("test");
        for (var i = 1; i <= PerKey; i++)
        {
            var ok = await LimitedAsync(HttpMethod.Get, "/v1/auth/me", account.ApiKey);
            Assert.That(ok.Status, Is.EqualTo(200));
            Assert.That(ok.LongHeader("X-RateLimit-Remaining"), Is.EqualTo(PerKey - i));
        }

        var rejected = await LimitedAsync(HttpMethod.Get, "/v1/auth/me", account.ApiKey);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.That(rejected.Status, Is.EqualTo(429));
        var retryAfter = rejected.LongHeader("Retry-After");
        Assert.Multiple(() =>
        {
            Assert.That(rejected.Code(), Is.EqualTo("rate_limit_exceeded"));
            Assert.That(rejected.Json.GetProperty("error").GetProperty("status").GetInt32(), Is.EqualTo(429));
            Assert.That(rejected.Json.GetProperty("error").GetProperty("message").GetString(), Is.Not.Empty);
            Assert.That(rejected.Response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That(rejected.LongHeader("X-RateLimit-Remaining"), Is.Zero);
            Assert.That(rejected.LongHeader("X-RateLimit-Limit"), Is.EqualTo(PerKey));
            Assert.That(retryAfter, Is.InRange(1, (long)Window.TotalSeconds));
            Assert.That(rejected.LongHeader("X-RateLimit-Reset"), Is.InRange(now, now + retryAfter + 1));
            Assert.That(rejected.Header("X-Request-Id"), Is.Not.Null);
        });

        // Another key has a window of its own.
        Assert.That((await LimitedAsync(HttpMethod.Get, "/v1/auth/me", other.ApiKey)).Status, Is.EqualTo(200));

        // More rejections cost nothing: once the accepted requests leave the window, the whole allowance is back.
        for (var i = 0; i < 5; i++)
        {
            Assert.That((await LimitedAsync(HttpMethod.Get, "/v1/cues", account.ApiKey)).Status, Is.EqualTo(429));
        }

        await Task.Delay(TimeSpan.FromSeconds(retryAfter) + TimeSpan.FromMilliseconds(100));
        var afterWait = await LimitedAsync(HttpMethod.Get, "/v1/auth/me", account.ApiKey);
        Assert.That(afterWait.Status, Is.EqualTo(200), "a slot frees when Retry-After said");

        await Task.Delay(Window);
        for (var i = 1; i <= PerKey; i++)
        {
            var ok = await LimitedAsync(HttpMethod.Get, "/v1/auth/me", account.ApiKey);
            Assert.That(ok.Status, Is.EqualTo(200), $"request {i} of a fresh window");
        }
    }

    [Test]
    public async Task Requests_without_a_valid_key_share_one_window_per_ip_whatever_key_they_invent()
    {
        await FreshWindowsAsync();
        for (var i = 0; i < Anonymous; i++)
        {
            // Each a different well-formed but unknown key: none of them gets a window of its own.
            var key = "cue_test_" + Guid.NewGuid().ToString("N");
            var reply = await LimitedAsync(HttpMethod.Get, "/v1/cues", key);
            Assert.Multiple(() =>
            {
                Assert.That(reply.Status, Is.EqualTo(401));
                Assert.That(reply.LongHeader("X-RateLimit-Limit"), Is.EqualTo(Anonymous));
                Assert.That(reply.LongHeader("X-RateLimit-Remaining"), Is.EqualTo(Anonymous - 1 - i));
            });
        }

        var rejected = await LimitedAsync(HttpMethod.Get, "/v1/no-such-route", null);
        Assert.Multiple(() =>
        {
            Assert.That(rejected.Status, Is.EqualTo(429));
            Assert.That(rejected.Code(), Is.EqualTo("rate_limit_exceeded"));
            Assert.That(rejected.LongHeader("Retry-After"), Is.InRange(1, (long)Window.TotalSeconds));
        });

        // A valid key is not held back by the IP's window, and probes are never limited.
        var account = await shared.RegisterAsync("test");
        Assert.That((await LimitedAsync(HttpMethod.Get, "/v1/auth/me", account.ApiKey)).Status, Is.EqualTo(200));
        for (var i = 0; i < Anonymous + 2; i++)
        {
            Assert.That((await LimitedAsync(HttpMethod.Get, "/health", null)).Status, Is.EqualTo(200));
            Assert.That((await LimitedAsync(HttpMethod.Get, "/status", null)).Status, Is.EqualTo(200));
        }
    }

    [Test]
    public async Task Registration_turned_off_is_403_and_is_limited_per_ip_on_its_own()
    {
        await FreshWindowsAsync();
        const string body = "{\"email\": \"someone@example.com\", \"mode\": \"test\"}";
        for (var i = 0; i < Registrations; i++)
        {
            var reply = await LimitedAsync(HttpMethod.Post, "/v1/auth/register", null, body);
            Assert.Multiple(() =>
            {
                Assert.That(reply.Status, Is.EqualTo(403));
                Assert.That(reply.Code(), Is.EqualTo("registration_disabled"));
                Assert.That(reply.LongHeader("X-RateLimit-Limit"), Is.EqualTo(Registrations));
            });
        }

        var rejected = await LimitedAsync(HttpMethod.Post, "/v1/auth/register", null, body);
        Assert.Multiple(() =>
        {
            Assert.That(rejected.Status, Is.EqualTo(429));
            Assert.That(rejected.Code(), Is.EqualTo("rate_limit_exceeded"));
            Assert.That(rejected.LongHeader("X-RateLimit-Remaining"), Is.Zero);
        });

        // The registration window is spent, the IP's general one is not: a rejected registration took nothing from it.
        var other = await LimitedAsync(HttpMethod.Get, "/v1/cues", null);
        Assert.Multiple(() =>
        {
            Assert.That(other.Status, Is.EqualTo(401));
            Assert.That(other.LongHeader("X-RateLimit-Limit"), Is.EqualTo(Anonymous));
            Assert.That(other.LongHeader("X-RateLimit-Remaining"), Is.EqualTo(Anonymous - Registrations - 1));
        });
    }
}
