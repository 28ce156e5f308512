using System.Net;
using Cue.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cue.Tests.Dashboard;

/// <summary>
/// One headless Debian chromium for the dashboard tests, driven by Playwright's .NET driver. Playwright's
/// own browser download does not work here, so the system browser is used; when it cannot be launched the
/// tests fail (never skip) with the reason. <c>./cue test</c> installs chromium when it is missing.
/// </summary>
public static class DashboardBrowser
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static IPlaywright? playwright;
    private static IBrowser? browser;

    public static async Task<IBrowser> SharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (browser is { IsConnected: true })
            {
                return browser;
            }

            if (!File.Exists(ChromiumPath))
            {
                Assert.Fail($"No browser at {ChromiumPath}: install Debian's chromium (./cue test does: apt-get install chromium).");
            }

            playwright ??= await Playwright.CreateAsync();
            browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                // Root in a container has no user namespaces for chromium's sandbox.
                Args = ["--no-sandbox", "--disable-dev-shm-usage"],
            });
            return browser;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A fresh browser profile (its own cookies) at 1280×800, failing fast rather than hanging.</summary>
    public static async Task<IBrowserContext> NewContextAsync(int width = 1280, int height = 800)
    {
        var context = await (await SharedAsync()).NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        // 30 s, not 15: during ./cue test the torture slice's private stacks share the two cores, and one
        // sign-in there once took longer than 15 s to land on the cues page.
        context.SetDefaultTimeout(30_000);
        return context;
    }

    public static async Task CloseAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
            browser = null;
        }

        playwright?.Dispose();
        playwright = null;
    }

    /// <summary>Signs in through the form, as a person would, and lands on the cues page.</summary>
    public static async Task<IPage> SignInAsync(IBrowserContext context, Uri api, string apiKey)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(api, "/dashboard/sign-in").ToString());
        await page.GetByLabel("API key").FillAsync(apiKey);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/dashboard/cues");
        return page;
    }

    public static async Task<string> SessionCookieAsync(IBrowserContext context) =>
        (await context.CookiesAsync()).Single(c => c.Name == "cue_session").Value;

    /// <summary>A client that sends a given session cookie and shows redirects as they are (no cookie jar, no following).</summary>
    public static HttpClient RawClient(Uri api) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };

    public static HttpRequestMessage WithSession(HttpRequestMessage request, string cookie)
    {
        request.Headers.Add("Cookie", "cue_session=" + cookie);
        return request;
    }

    /// <summary>Saves a 1280×800 screenshot into docs/images when CUE_SCREENSHOTS=1 (the README shows them).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("CUE_SCREENSHOTS") != "1")
        {
            return;
        }

        var directory = Path.Combine(Paths.RepositoryRoot, "docs", "images");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, $"dashboard-{name}.png") });
    }

    public static bool IsRedirectToSignIn(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.SeeOther && response.Headers.Location?.ToString() == "/dashboard/sign-in";
}

/// <summary>Closes the shared browser once the dashboard tests are done.</summary>
[SetUpFixture]
public sealed class DashboardBrowserLifetime
{
    [OneTimeTearDown]
    public Task CloseAsync() => DashboardBrowser.CloseAsync();
}
