using Cue.Contracts;
using Cue.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cue.Tests.Dashboard;

/// <summary>A person's round trip through the dashboard in a real headless chromium, against the real stack.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Using_the_dashboard
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
    public async Task Signing_in_watching_a_delivery_live_pausing_firing_deleting_and_signing_out()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        await using var context = await DashboardBrowser.NewContextAsync();
        var seen = new List<string>();

        var signIn = await context.NewPageAsync();
        await signIn.GotoAsync(Url("/dashboard/sign-in"));
        await DashboardBrowser.ScreenshotAsync(signIn, "sign-in");
        await signIn.CloseAsync();

        var page = await DashboardBrowser.SignInAsync(context, stack.Api.BaseAddress, account.ApiKey);
        seen.Add(await page.ContentAsync());

        // The audit trail is open before the cue exists: its execution must arrive through the live feed.
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Audit trail" }).ClickAsync();
        await page.WaitForURLAsync("**/dashboard/executions");
        await Assertions.Expect(page.Locator("table.executions[data-live='true']")).ToBeVisibleAsync();
        await page.EvaluateAsync("() => { window.cueNotReloaded = true; }");

        var name = "report-" + Guid.NewGuid().ToString("N")[..8];
        var at = Timestamps.TruncateToMilliseconds(DateTimeOffset.UtcNow.AddSeconds(2));
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name,
            schedule = new { type = "once", at = Timestamps.ToWire(at) },
            callback = new { url = receiver.Url.ToString() },
            payload = new { task = "report" },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;

        // Generous waits: this is about the row arriving without a reload, not about firing precision (./cue bench
        // measures that), and the suite shares two cores with parallel builds.
        var row = page.Locator("table.executions tbody tr[data-execution-id]").Filter(new LocatorFilterOptions { HasText = name });
        await Assertions.Expect(row).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 60_000 });
        await Assertions.Expect(row.Locator("[data-cell='status']")).ToHaveTextAsync("success", new LocatorAssertionsToHaveTextOptions { Timeout = 60_000 });
        Assert.That(await page.EvaluateAsync<bool>("() => window.cueNotReloaded === true"), Is.True, "the page was reloaded: the row did not come from the live feed");
        var executionId = await row.GetAttributeAsync("data-execution-id");
        await Assertions.Expect(row.Locator("[data-cell='http']")).ToHaveTextAsync("200");

        // The page drawn now carries the execution in its table and its chart.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("figure.chart svg[role='img']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".chart-summary")).ToContainTextAsync("1 succeeded");
        await DashboardBrowser.ScreenshotAsync(page, "audit-trail");
        seen.Add(await page.ContentAsync());

        // The execution's own page: its attempt, with the code, the address connected to and the response.
        await page.Locator($"tr[data-execution-id='{executionId}'] a[aria-label='Execution {executionId}']").ClickAsync();
        await page.WaitForURLAsync($"**/dashboard/executions/{executionId}");
        var attempt = page.Locator("table.attempts tr[data-attempt='1']");
        await Assertions.Expect(attempt.Locator("[data-cell='http']")).ToHaveTextAsync("200");
        await Assertions.Expect(attempt.Locator("[data-cell='ip']")).ToHaveTextAsync("127.0.0.1");
        await Assertions.Expect(attempt).ToContainTextAsync("{\"ok\": true}");
        seen.Add(await page.ContentAsync());

        // A recurring cue, paused and fired from its row and its page.
        var recurring = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "weekday-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "recurring", cron = "0 9 * * 1-5", timezone = "Europe/Paris" },
            callback = new { url = receiver.Url.ToString() },
        });
        Assert.That(recurring.Status, Is.EqualTo(201), recurring.Json.ToString());
        var recurringId = recurring.Json.GetProperty("id").GetString()!;
        var recurringName = recurring.Json.GetProperty("name").GetString()!;

        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Cues" }).ClickAsync();
        var cueRow = page.Locator($"tr[data-cue-id='{recurringId}']");
        await Assertions.Expect(cueRow).ToContainTextAsync("at 09:00 on Monday–Friday (Europe/Paris time)");
        await Assertions.Expect(cueRow).ToContainTextAsync("0 9 * * 1-5");
        await Assertions.Expect(page.Locator($"tr[data-cue-id='{cueId}']")).ToContainTextAsync("success");
        await DashboardBrowser.ScreenshotAsync(page, "cues");
        seen.Add(await page.ContentAsync());

        await cueRow.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Pause " + recurringName }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("Cue paused");
        var paused = await api.GetAsync($"/v1/cues/{recurringId}", account.ApiKey);
        Assert.That(paused.Json.GetProperty("status").GetString(), Is.EqualTo("paused"), "the REST API does not show the pause made on the page");

        await page.Locator($"tr[data-cue-id='{recurringId}'] th a").ClickAsync();
        await page.WaitForURLAsync($"**/dashboard/cues/{recurringId}");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = $"Fire {recurringName} now" }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("Fired");
        await Assertions.Expect(page.Locator("table.executions tbody tr[data-execution-id]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.executions [data-cell='status']").First).ToHaveTextAsync("success", new LocatorAssertionsToHaveTextOptions { Timeout = 60_000 });
        var fired = await api.GetAsync($"/v1/executions?cue_id={recurringId}", account.ApiKey);
        Assert.That(fired.Json.GetProperty("executions")[0].GetProperty("triggered_by").GetString(), Is.EqualTo("manual_fire"));
        await page.ReloadAsync();
        await DashboardBrowser.ScreenshotAsync(page, "cue");
        seen.Add(await page.ContentAsync());

        // Delete asks first: dismissed, nothing happens; accepted, the cue is gone.
        var dialogs = new List<string>();
        void Dismiss(object? sender, IDialog dialog)
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        }

        page.Dialog += Dismiss;
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Delete " + recurringName }).ClickAsync();
        await page.WaitForTimeoutAsync(300);
        Assert.That(dialogs, Has.Count.EqualTo(1).And.Some.Contains(recurringName));
        Assert.That((await api.GetAsync($"/v1/cues/{recurringId}", account.ApiKey)).Status, Is.EqualTo(200), "a dismissed confirmation deleted the cue");
        page.Dialog -= Dismiss;
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Delete " + recurringName }).ClickAsync();
        await page.WaitForURLAsync("**/dashboard/cues?done=deleted");
        Assert.That((await api.GetAsync($"/v1/cues/{recurringId}", account.ApiKey)).Status, Is.EqualTo(404));

        // Signing out ends the session server-side: the old cookie no longer opens a page.
        var cookie = await DashboardBrowser.SessionCookieAsync(context);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/dashboard/sign-in?done=signed-out");
        using var raw = DashboardBrowser.RawClient(stack.Api.BaseAddress);
        using var after = await raw.SendAsync(DashboardBrowser.WithSession(new HttpRequestMessage(HttpMethod.Get, "/dashboard/cues"), cookie));
        Assert.That(DashboardBrowser.IsRedirectToSignIn(after), Is.True, $"{(int)after.StatusCode} {after.Headers.Location}");

        foreach (var html in seen)
        {
            Assert.That(html, Does.Not.Contain(account.ApiKey), "the API key was rendered into a page");
        }
    }

    [Test]
    public async Task Is_readable_at_phone_width_with_every_page_keyboard_reachable()
    {
        var account = await api.RegisterAsync("test");
        await using var context = await DashboardBrowser.NewContextAsync(390, 844);
        var page = await DashboardBrowser.SignInAsync(context, stack.Api.BaseAddress, account.ApiKey);

        // The first Tab lands on the skip link, which moves focus to the main content.
        await page.Keyboard.PressAsync("Tab");
        Assert.That(await page.EvaluateAsync<string>("() => document.activeElement.textContent.trim()"), Is.EqualTo("Skip to content"));
        await page.Keyboard.PressAsync("Enter");
        Assert.That(await page.EvaluateAsync<string>("() => document.activeElement.id"), Is.EqualTo("main"));

        foreach (var path in new[] { "/dashboard/cues", "/dashboard/executions" })
        {
            await page.GotoAsync(Url(path));
            // Nothing wider than the screen but the tables' own scroll regions.
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
            var wide = await page.EvaluateAsync<string>(
                "() => [...document.querySelectorAll('body *')].filter(e => !(e.closest('.table-wrap') && !e.classList.contains('table-wrap')) && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)" +
                ".map(e => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)).slice(0, 5).join(', ')");
            Assert.That(overflow, Is.LessThanOrEqualTo(0), $"{path} is wider than the screen: {wide}");
            var unlabelled = await page.EvaluateAsync<int>(
                "() => [...document.querySelectorAll('input:not([type=hidden]), select')].filter(e => !e.labels || e.labels.length === 0).length");
            Assert.That(unlabelled, Is.Zero, $"form controls without a label on {path}");
        }
    }

    private string Url(string path) => new Uri(stack.Api.BaseAddress, path).ToString();
}
