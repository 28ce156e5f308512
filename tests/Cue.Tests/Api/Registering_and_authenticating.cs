using System.Text.Json;
using System.Text.RegularExpressions;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.Api;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed partial class Registering_and_authenticating
{
    private CueStack stack = null!;
    private CueApiClient api = null!;

    [GeneratedRegex("^cue_(live|test)_[0-9A-Za-z]{32}$")]
    private static partial Regex KeyPattern();

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
    }

    [OneTimeTearDown]
    public void Dispose() => api.Dispose();

    [TestCase("live")]
    [TestCase("test")]
    public async Task Register_returns_the_key_once_and_stores_only_its_hash(string mode)
    {
        var email = $"Mixed.{Guid.NewGuid():N}@Example.com";
        var reply = await api.PostAsync("/v1/auth/register", null, new { email, mode });
        Assert.That(reply.Status, Is.EqualTo(201), reply.Json.ToString());
        var key = reply.Json.GetProperty("api_key").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(KeyPattern().IsMatch(key), Is.True, key);
            Assert.That(key, Does.StartWith($"cue_{mode}_"));
            Assert.That(reply.Json.GetProperty("email").GetString(), Is.EqualTo(email.ToLowerInvariant()));
            Assert.That(reply.Json.GetProperty("mode").GetString(), Is.EqualTo(mode));
            Assert.That(reply.Json.GetProperty("webhook_secret").GetString(), Does.Match("^whsec_[0-9a-f]{64}$"));
            Assert.That(reply.Json.GetProperty("created_at").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
        });

        // The plaintext key is nowhere in the database; its SHA-256 is.
        var dump = await DumpDatabaseTextAsync();
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        Assert.Multiple(() =>
        {
            Assert.That(dump, Does.Not.Contain(key));
            Assert.That(dump, Does.Contain(hash));
        });

        var me = await api.GetAsync("/v1/auth/me", key);
        Assert.That(me.Status, Is.EqualTo(200));
        Assert.That(me.Json.GetProperty("api_key_prefix").GetString(), Is.EqualTo(key[..13]));
    }

    [Test]
    public async Task The_same_email_twice_in_one_mode_is_a_conflict()
    {
        var email = $"dup{Guid.NewGuid():N}@example.com";
        Assert.That((await api.PostAsync("/v1/auth/register", null, new { email, mode = "test" })).Status, Is.EqualTo(201));
        var again = await api.PostAsync("/v1/auth/register", null, new { email = email.ToUpperInvariant(), mode = "test" });
        Assert.That(again.Status, Is.EqualTo(409));
        Assert.That(again.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("duplicate_email"));
        Assert.That((await api.PostAsync("/v1/auth/register", null, new { email, mode = "live" })).Status, Is.EqualTo(201));
    }

    [TestCase(null)]
    [TestCase("Basic abc")]
    [TestCase("Bearer not-a-key")]
    [TestCase("Bearer cue_test_00000000000000000000000000000000")]
    public async Task Requests_without_a_valid_key_get_401_invalid_api_key(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/executions");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var http = new HttpClient { BaseAddress = stack.Api.BaseAddress };
        using var response = await http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(401));
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
            Assert.That(body.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("invalid_api_key"));
            Assert.That(body.GetProperty("error").GetProperty("status").GetInt32(), Is.EqualTo(401));
        });
    }

    [Test]
    public async Task Unknown_routes_answer_404_in_the_error_envelope_even_without_a_key()
    {
        var reply = await api.GetAsync("/v1/no-such-thing", null);
        Assert.Multiple(() =>
        {
            Assert.That(reply.Status, Is.EqualTo(404));
            Assert.That(reply.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("not_found"));
            Assert.That(reply.Response.Headers.Contains("X-Request-Id"), Is.True);
        });
    }

    [TestCase("{\"email\": ", "invalid_json", 400)]
    [TestCase("[1, 2]", "invalid_json", 400)]
    [TestCase("{\"email\": \"a@example.com\", \"extra\": 1}", "validation_error", 422)]
    [TestCase("{\"email\": \"not-an-email\"}", "validation_error", 422)]
    [TestCase("{\"email\": \"a@example.com\", \"mode\": \"prod\"}", "validation_error", 422)]
    public async Task Bad_registrations_get_a_clear_error(string body, string code, int status)
    {
        var reply = await api.SendRawAsync(HttpMethod.Post, "/v1/auth/register", null, body);
        Assert.That(reply.Status, Is.EqualTo(status));
        Assert.That(reply.Json.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo(code));
    }

    private async Task<string> DumpDatabaseTextAsync()
    {
        await using var connection = new NpgsqlConnection(stack.Postgres);
        await connection.OpenAsync();
        var text = new System.Text.StringBuilder();
        foreach (var table in new[] { "cue.mt_events", "cue.mt_doc_apikeyrecord", "cue.mt_doc_accountview" })
        {
            await using var command = new NpgsqlCommand($"select t::text from {table} t", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.AppendLine(reader.GetString(0));
            }
        }

        return text.ToString();
    }
}
