using System.Globalization;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// §4 quotas: <c>active_cue_limit</c> (active + paused cues) and <c>monthly_execution_limit</c>, on an API
/// process of this fixture's own whose operator set both to 2.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Enforcing_quotas
{
    private const int Limit = 2;
    private CueProcess limited = null!;
    private CueApiClient api = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        await CueStack.SharedAsync();
        var (postgres, rabbit) = await TestServices.GetAsync();
        limited = new CueProcess("Cue.Api", CueStack.FreePort(), new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = postgres,
            ["ConnectionStrings__RabbitMq"] = rabbit,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Accounts__ActiveCueLimit"] = Limit.ToString(CultureInfo.InvariantCulture),
            ["Accounts__MonthlyExecutionLimit"] = Limit.ToString(CultureInfo.InvariantCulture),
            ["Accounts__RateLimitPerMinute"] = "100000",
            ["RateLimits__AnonymousPerMinute"] = "100000",
            ["RateLimits__RegisterPerMinute"] = "100000",
        });
        await limited.StartAsync();
        api = new CueApiClient(limited.BaseAddress);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        api.Dispose();
        await limited.DisposeAsync();
    }

    private Task<CueApiClient.Reply> CreateAsync(string key, string name) => api.PostAsync("/v1/cues", key, new
    {
        name,
        schedule = new { type = "recurring", cron = "0 0 1 1 *" },
        callback = new { url = "http://127.0.0.1:9/hook" },
    });

    private static void AssertError(CueApiClient.Reply reply, int status, string code)
    {
        Assert.That(reply.Status, Is.EqualTo(status), reply.Json.ToString());
        Assert.That(reply.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo(code));
    }

    [Test]
    public async Task Active_and_paused_cues_count_and_a_duplicate_name_is_reported_first()
    {
        var account = await api.RegisterAsync("test");
        var first = await CreateAsync(account.ApiKey, "one");
        Assert.That(first.Status, Is.EqualTo(201));
        Assert.That((await CreateAsync(account.ApiKey, "two")).Status, Is.EqualTo(201));

        AssertError(await CreateAsync(account.ApiKey, "three"), 403, "cue_limit_exceeded");
        AssertError(await CreateAsync(account.ApiKey, "one"), 409, "duplicate_cue_name");

        var id = first.Json.GetProperty("id").GetString()!;
        Assert.That((await api.SendAsync(HttpMethod.Patch, $"/v1/cues/{id}", account.ApiKey, new { status = "paused" })).Status, Is.EqualTo(200));
        AssertError(await CreateAsync(account.ApiKey, "three"), 403, "cue_limit_exceeded");

        var me = await api.GetAsync("/v1/auth/me", account.ApiKey);
        Assert.That(me.Json.GetProperty("active_cue_limit").GetInt32(), Is.EqualTo(Limit));

        Assert.That((await api.SendAsync(HttpMethod.Delete, $"/v1/cues/{id}", account.ApiKey, null)).Status, Is.EqualTo(204));
        Assert.That((await CreateAsync(account.ApiKey, "three")).Status, Is.EqualTo(201), "a deleted cue frees its place");
    }

    [Test]
    public async Task Fires_and_replays_stop_at_the_monthly_execution_limit()
    {
        var account = await api.RegisterAsync("test");
        var cue = await CreateAsync(account.ApiKey, "fired");
        var id = cue.Json.GetProperty("id").GetString()!;
        var firstFire = await api.PostAsync($"/v1/cues/{id}/fire", account.ApiKey, null);
        Assert.That(firstFire.Status, Is.EqualTo(200));
        Assert.That((await api.PostAsync($"/v1/cues/{id}/fire", account.ApiKey, null)).Status, Is.EqualTo(200));

        AssertError(await api.PostAsync($"/v1/cues/{id}/fire", account.ApiKey, null), 403, "execution_limit_exceeded");
        var usage = await api.GetAsync("/v1/usage", account.ApiKey);
        Assert.That(usage.Json.GetProperty("executions").GetProperty("used").GetInt32(), Is.EqualTo(Limit));
        Assert.That(usage.Json.GetProperty("executions").GetProperty("remaining").GetInt32(), Is.Zero);

        var list = await api.GetAsync($"/v1/executions?cue_id={id}", account.ApiKey);
        Assert.That(list.Json.GetProperty("total").GetInt32(), Is.EqualTo(Limit), "the refused fire created nothing");
    }
}
