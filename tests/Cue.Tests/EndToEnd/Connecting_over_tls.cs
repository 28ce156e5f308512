using System.Net;
using System.Text.Json;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// Encryption in transit to the stores (security §7): a PostgreSQL and a RabbitMQ of this fixture's own accept
/// TLS only, with certificates issued by an authority the test makes. A Cue API process switched to TLS by
/// configuration alone (<c>SSL Mode=VerifyFull;Root Certificate=…</c> in the PostgreSQL connection string, an
/// <c>amqps://</c> URI and <c>RabbitMq:CaCertificate</c>) works over both; the same process given another
/// authority's root refuses each server instead of trusting whatever certificate it is shown.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class Connecting_over_tls
{
    private TestAuthority authority = null!;
    private TestAuthority stranger = null!;
    private PrivatePostgres postgres = null!;
    private PrivateRabbitMq rabbit = null!;
    private string strangerCa = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        authority = new TestAuthority("Cue test CA");
        stranger = new TestAuthority("Someone else's CA");
        strangerCa = Path.Combine(Path.GetTempPath(), $"cue-stranger-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(strangerCa, stranger.Root.ExportCertificatePem());
        await Task.WhenAll(StartPostgresAsync(), StartRabbitAsync());
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (postgres is not null)
        {
            await postgres.DisposeAsync();
        }

        if (rabbit is not null)
        {
            await rabbit.DisposeAsync();
        }

        File.Delete(strangerCa);
        authority.Dispose();
        stranger.Dispose();
    }

    [Test]
    public async Task The_api_works_over_tls_to_both_and_no_connection_is_plain()
    {
        await using var api = Api(postgresCa: postgres.CaPath, rabbitCa: rabbit.CaPath);
        await api.StartAsync();

        using var client = new CueApiClient(api.BaseAddress);
        var account = await client.RegisterAsync();
        var created = await client.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "over-tls",
            schedule = new { type = "once", at = DateTimeOffset.UtcNow.AddDays(1).ToString("O") },
            callback = new { url = "http://127.0.0.1:9/hook" },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());

        var sessions = await postgres.PsqlAsync(
            "select count(*) filter (where s.ssl) || ' ' || count(*) filter (where not s.ssl) || ' ' || coalesce(min(s.version), '-') " +
            "from pg_stat_activity a join pg_stat_ssl s using (pid) where a.usename = 'cue'");
        var parts = sessions.Trim().Split(' ');
        var connections = await rabbit.CtlAsync("list_connections", "user", "ssl", "ssl_protocol", "--no-table-headers");
        var rows = connections.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t')).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0), "PostgreSQL sessions over TLS");
            Assert.That(parts[1], Is.EqualTo("0"), "PostgreSQL sessions in clear");
            Assert.That(parts[2], Is.AnyOf("TLSv1.2", "TLSv1.3"));
            Assert.That(rows, Is.Not.Empty, "the API's broker connections");
            Assert.That(rows, Has.All.Matches<string[]>(r => r is ["cue", "true", "tlsv1.2" or "tlsv1.3"]),
                connections);
        });
    }

    [Test]
    public async Task A_broker_certificate_from_another_authority_is_refused()
    {
        await using var api = Api(postgresCa: postgres.CaPath, rabbitCa: strangerCa);
        api.Launch();

        // The database is reachable, so the process serves its health endpoint; the broker must stay refused.
        var health = await ReadyAfterAsync(api, TimeSpan.FromSeconds(12));
        var connections = await rabbit.CtlAsync("list_connections", "user", "--no-table-headers");
        // The API stays ready through a broker it cannot reach (degraded, 200): the event log is its outbox.
        Assert.That(health.Status, Is.EqualTo(HttpStatusCode.OK), health.Body);
        using var json = JsonDocument.Parse(health.Body);
        var checks = json.RootElement.GetProperty("checks");
        Assert.Multiple(() =>
        {
            Assert.That(checks.GetProperty("database").GetString(), Is.EqualTo("ok"), health.Body);
            Assert.That(checks.GetProperty("broker").GetString(), Is.Not.EqualTo("ok"), health.Body);
            Assert.That(connections.Trim(), Is.Empty, "connections the API opened with an unverified broker");
        });
    }

    [Test]
    public async Task A_database_certificate_from_another_authority_is_refused()
    {
        await using var api = Api(postgresCa: strangerCa, rabbitCa: rabbit.CaPath);
        api.Launch();

        // The API prepares its schema before it serves anything: refused by TLS, it never becomes ready.
        var health = await ReadyAfterAsync(api, TimeSpan.FromSeconds(12));
        var sessions = await postgres.PsqlAsync("select count(*) from pg_stat_activity where usename = 'cue'");
        Assert.Multiple(() =>
        {
            Assert.That(health.Status, Is.Not.EqualTo(HttpStatusCode.OK), health.Body);
            Assert.That(sessions.Trim(), Is.EqualTo("0"), "sessions the API opened with an unverified server");
            Assert.That(api.LogTail(200), Does.Contain("certificate").IgnoreCase.Or.Contain("SSL").IgnoreCase);
        });
    }

    private async Task StartPostgresAsync() => postgres = await PrivatePostgres.StartAsync(authority);

    private async Task StartRabbitAsync() => rabbit = await PrivateRabbitMq.StartAsync(authority);

    private CueProcess Api(string postgresCa, string rabbitCa)
    {
        var environment = CueStack.ServiceEnvironment(postgres.ConnectionString(postgresCa), rabbit.Uri);
        environment["RabbitMq__CaCertificate"] = rabbitCa;
        return new CueProcess("Cue.Api", CueStack.FreePort(), environment);
    }

    /// <summary>Waits <paramref name="wait"/>, then reads <c>/health/ready</c> (status 0 when nothing answers).</summary>
    private static async Task<(HttpStatusCode Status, string Body)> ReadyAfterAsync(CueProcess api, TimeSpan wait)
    {
        await Task.Delay(wait);
        using var http = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return (0, $"no answer: {ex.Message}\n{api.LogTail()}");
        }
    }
}
