using System.Net;
using System.Text.RegularExpressions;
using Cue.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cue.Tests.Dashboard;

/// <summary>Who gets in, what they see, and which posts are refused: in a real browser and with raw requests.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed partial class Dashboard_sessions_and_isolation
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

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();

    [TestCase("cue_test_00000000000000000000000000000000")]
    [TestCase("not a key at all")]
    public async Task A_wrong_key_is_refused_on_the_page(string key)
    {
        await using var context = await DashboardBrowser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(Url("/dashboard/sign-in"));
        await page.GetByLabel("API key").FillAsync(key);
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync(),
            r => r.Url.EndsWith("/dashboard/sign-in", StringComparison.Ordinal) && r.Request.Method == "POST");

        Assert.That(response.Status, Is.EqualTo(401));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not valid");
        Assert.That((await context.CookiesAsync()).Any(c => c.Name == "cue_session"), Is.False, "a session cookie was set for a wrong key");
        Assert.That(await page.ContentAsync(), Does.Not.Contain(key), "the submitted key was echoed into the page");
        await page.GotoAsync(Url("/dashboard/cues"));
        Assert.That(page.Url, Does.EndWith("/dashboard/sign-in"));
    }

    [Test]
    public async Task The_session_cookie_is_HttpOnly_Secure_SameSite_Strict_and_pages_carry_the_security_headers()
    {
        var account = await api.RegisterAsync("test");
        await using var context = await DashboardBrowser.NewContextAsync();
        var page = await DashboardBrowser.SignInAsync(context, stack.Api.BaseAddress, account.ApiKey);

        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "cue_session");
        Assert.Multiple(() =>
        {
            Assert.That(cookie.HttpOnly, Is.True, "HttpOnly");
            Assert.That(cookie.Secure, Is.True, "Secure");
            Assert.That(cookie.SameSite, Is.EqualTo(SameSiteAttribute.Strict), "SameSite");
            Assert.That(cookie.Path, Is.EqualTo("/dashboard"));
            Assert.That(cookie.Value, Does.Not.Contain(account.ApiKey[9..]));
        });
        Assert.That(await page.EvaluateAsync<string>("() => document.cookie"), Does.Not.Contain("cue_session"), "the session cookie is readable from script");
        Assert.That(await page.ContentAsync(), Does.Not.Contain(account.ApiKey));

        var response = await page.GotoAsync(Url("/dashboard/executions"));
        var headers = await response!.AllHeadersAsync();
        Assert.Multiple(() =>
        {
            Assert.That(headers.GetValueOrDefault("content-security-policy"), Does.Contain("default-src 'none'").And.Contain("script-src 'self'").And.Contain("frame-ancestors 'none'"));
            Assert.That(headers.GetValueOrDefault("x-content-type-options"), Is.EqualTo("nosniff"));
            Assert.That(headers.GetValueOrDefault("x-frame-options"), Is.EqualTo("DENY"));
            Assert.That(headers.GetValueOrDefault("cache-control"), Is.EqualTo("no-store"));
            Assert.That(headers.ContainsKey("x-request-id"), Is.True);
        });
    }

    [Test]
    public async Task One_account_never_sees_anothers_cues_or_executions()
    {
        var owner = await api.RegisterAsync("test");
        var other = await api.RegisterAsync("test");
        var name = "private-" + Guid.NewGuid().ToString("N")[..8];
        var created = await api.PostAsync("/v1/cues", owner.ApiKey, new
        {
            name,
            schedule = new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = "http://127.0.0.1:9/hook" },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;
        var fired = await api.PostAsync($"/v1/cues/{cueId}/fire", owner.ApiKey, new { send_at = "2099-01-01T00:00:00Z" });
        var executionId = fired.Json.GetProperty("id").GetString()!;

        // The owner sees both: the check below is not passing because nothing is shown to anyone.
        await using var ownerContext = await DashboardBrowser.NewContextAsync();
        var ownerPage = await DashboardBrowser.SignInAsync(ownerContext, stack.Api.BaseAddress, owner.ApiKey);
        Assert.That(await ownerPage.ContentAsync(), Does.Contain(name));
        await ownerPage.GotoAsync(Url("/dashboard/executions"));
        Assert.That(await ownerPage.ContentAsync(), Does.Contain(executionId));

        await using var context = await DashboardBrowser.NewContextAsync();
        var page = await DashboardBrowser.SignInAsync(context, stack.Api.BaseAddress, other.ApiKey);
        Assert.That(await page.ContentAsync(), Does.Not.Contain(name).And.Not.Contain(cueId));
        await page.GotoAsync(Url("/dashboard/executions"));
        Assert.That(await page.ContentAsync(), Does.Not.Contain(executionId).And.Not.Contain(name));
        await page.GotoAsync(Url($"/dashboard/executions?cue_id={cueId}"));
        Assert.That(await page.Locator("table.executions tbody tr[data-execution-id]").CountAsync(), Is.Zero);

        var cuePage = await page.GotoAsync(Url($"/dashboard/cues/{cueId}"));
        Assert.That(cuePage!.Status, Is.EqualTo(404));
        Assert.That(await page.ContentAsync(), Does.Not.Contain(name));
        var executionPage = await page.GotoAsync(Url($"/dashboard/executions/{executionId}"));
        Assert.That(executionPage!.Status, Is.EqualTo(404));

        // Nor can it act on them, even with its own valid session and form token.
        using var raw = DashboardBrowser.RawClient(stack.Api.BaseAddress);
        var cookie = await DashboardBrowser.SessionCookieAsync(context);
        var csrf = await FormTokenAsync(raw, cookie);
        using var pause = await raw.SendAsync(DashboardBrowser.WithSession(Post($"/dashboard/cues/{cueId}/pause", ("csrf", csrf)), cookie));
        Assert.That(pause.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await api.GetAsync($"/v1/cues/{cueId}", owner.ApiKey)).Json.GetProperty("status").GetString(), Is.EqualTo("active"));
    }

    [Test]
    public async Task A_post_without_the_sessions_form_token_is_refused()
    {
        var account = await api.RegisterAsync("test");
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "csrf-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = "http://127.0.0.1:9/hook" },
        });
        var cueId = created.Json.GetProperty("id").GetString()!;
        await using var context = await DashboardBrowser.NewContextAsync();
        await DashboardBrowser.SignInAsync(context, stack.Api.BaseAddress, account.ApiKey);
        var cookie = await DashboardBrowser.SessionCookieAsync(context);
        using var raw = DashboardBrowser.RawClient(stack.Api.BaseAddress);

        using var missing = await raw.SendAsync(DashboardBrowser.WithSession(Post($"/dashboard/cues/{cueId}/pause"), cookie));
        using var wrong = await raw.SendAsync(DashboardBrowser.WithSession(Post($"/dashboard/cues/{cueId}/pause", ("csrf", "AAAA" + new string('x', 39))), cookie));
        Assert.Multiple(async () =>
        {
            Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(missing.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"), "the refusal is shown as a page");
            Assert.That(await missing.Content.ReadAsStringAsync(), Does.Contain("security token"));
        });
        Assert.That((await api.GetAsync($"/v1/cues/{cueId}", account.ApiKey)).Json.GetProperty("status").GetString(), Is.EqualTo("active"));

        // The same post with the page's token goes through: the token is what was missing.
        var csrf = await FormTokenAsync(raw, cookie);
        using var accepted = await raw.SendAsync(DashboardBrowser.WithSession(Post($"/dashboard/cues/{cueId}/pause", ("csrf", csrf)), cookie));
        Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther));
        Assert.That((await api.GetAsync($"/v1/cues/{cueId}", account.ApiKey)).Json.GetProperty("status").GetString(), Is.EqualTo("paused"));

        // Sign-in has its own token (there is no session yet): a bare post of a valid key opens nothing.
        using var bareSignIn = await raw.SendAsync(Post("/dashboard/sign-in", ("api_key", account.ApiKey)));
        Assert.That(bareSignIn.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(bareSignIn.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith("cue_session=", StringComparison.Ordinal) && !c.StartsWith("cue_session=;", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task Regenerating_the_api_key_ends_the_session_opened_with_it()
    {
        var account = await api.RegisterAsync("test");
        await using var context = await DashboardBrowser.NewContextAsync();
        var page = await DashboardBrowser.SignInAsync(context, stack.Api.BaseAddress, account.ApiKey);
        var cookie = await DashboardBrowser.SessionCookieAsync(context);
        using var raw = DashboardBrowser.RawClient(stack.Api.BaseAddress);
        using (var before = await raw.SendAsync(DashboardBrowser.WithSession(new HttpRequestMessage(HttpMethod.Get, "/dashboard/cues"), cookie)))
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        using var regenerate = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/key/regenerate");
        regenerate.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", account.ApiKey);
        regenerate.Headers.Add("X-Confirm-Destructive", "true");
        using var regenerated = await raw.SendAsync(regenerate);
        Assert.That(regenerated.StatusCode, Is.EqualTo(HttpStatusCode.OK), await regenerated.Content.ReadAsStringAsync());

        using var after = await raw.SendAsync(DashboardBrowser.WithSession(new HttpRequestMessage(HttpMethod.Get, "/dashboard/cues"), cookie));
        Assert.That(DashboardBrowser.IsRedirectToSignIn(after), Is.True, $"{(int)after.StatusCode} {after.Headers.Location}");
        await page.ReloadAsync();
        Assert.That(page.Url, Does.EndWith("/dashboard/sign-in"));
    }

    private static HttpRequestMessage Post(string path, params (string Name, string Value)[] fields) =>
        new(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))) };

    private static async Task<string> FormTokenAsync(HttpClient raw, string cookie)
    {
        using var response = await raw.SendAsync(DashboardBrowser.WithSession(new HttpRequestMessage(HttpMethod.Get, "/dashboard/cues"), cookie));
        var match = CsrfField().Match(await response.Content.ReadAsStringAsync());
        Assert.That(match.Success, Is.True, "no form token on the cues page");
        return match.Groups[1].Value;
    }

    private string Url(string path) => new Uri(stack.Api.BaseAddress, path).ToString();
}
