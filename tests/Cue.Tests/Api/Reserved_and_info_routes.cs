using System.Net.Http.Headers;
using System.Text.Json;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Reserved_and_info_routes
{
    private HttpClient http = null!;
    private string apiKey = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var stack = await CueStack.SharedAsync();
        http = new HttpClient { BaseAddress = stack.Api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var api = new CueApiClient(stack.Api.BaseAddress);
        apiKey = (await api.RegisterAsync("test")).ApiKey;
    }

    [OneTimeTearDown]
    public void Dispose() => http.Dispose();

    private static readonly string[][] WorkerRoutes =
    [
        ["GET", "/v1/executions/claimable"],
        ["POST", "/v1/executions/claim"],
        ["POST", "/v1/executions/6f1c2a9e-0b7d-4c55-9a3e-2d8f4b1e7c90/claim"],
        ["POST", "/v1/executions/6f1c2a9e-0b7d-4c55-9a3e-2d8f4b1e7c90/heartbeat"],
        ["POST", "/v1/worker/heartbeat"],
        ["GET", "/v1/workers"],
        ["DELETE", "/v1/workers/w1"],
    ];

    [TestCaseSource(nameof(WorkerRoutes))]
    public async Task A_reserved_worker_route_answers_501_not_implemented_to_a_valid_key(string method, string path)
    {
        // GET /v1/executions/claimable also proves the literal segment wins over /v1/executions/{id}.
        using var response = await SendAsync(method, path, apiKey);
        await ErrorEnvelopeAssert.IsAsync(response, 501, "not_implemented");
    }

    [TestCaseSource(nameof(WorkerRoutes))]
    public async Task A_reserved_worker_route_requires_a_key_like_every_v1_route(string method, string path)
    {
        using var response = await SendAsync(method, path, null);
        await ErrorEnvelopeAssert.IsAsync(response, 401, "invalid_api_key");
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
    }

    [Test]
    public async Task Info_answers_without_a_key_with_exactly_the_contract_fields()
    {
        using var response = await http.GetAsync(new Uri("/v1/info", UriKind.Relative));
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo("application/json; charset=utf-8"));
        Assert.That(response.Headers.Contains("X-Request-Id"), Is.True);
        var info = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.That(Keys(info), Is.EquivalentTo(new[]
        {
            "name", "version", "api_version", "compatible_with", "authorization_backend", "disabled_primitives", "limits",
        }));
        Assert.That(Keys(info.GetProperty("limits")), Is.EquivalentTo(new[] { "max_request_bytes", "max_payload_bytes", "max_callback_url_length" }));
        Assert.Multiple(() =>
        {
            Assert.That(info.GetProperty("name").GetString(), Is.EqualTo("cue"));
            Assert.That(info.GetProperty("version").GetString(), Does.Match(@"^\d+\.\d+\.\d+"));
            Assert.That(info.GetProperty("api_version").GetString(), Is.EqualTo("v1"));
            Assert.That(info.GetProperty("compatible_with").GetString(), Is.EqualTo("cueapi-v1"));
            Assert.That(info.GetProperty("authorization_backend").GetString(), Is.EqualTo("api_key"));
            Assert.That(info.GetProperty("disabled_primitives").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "worker_transport", "messaging" }));
            Assert.That(info.GetProperty("limits").GetProperty("max_request_bytes").GetInt32(), Is.EqualTo(1_048_576));
            Assert.That(info.GetProperty("limits").GetProperty("max_payload_bytes").GetInt32(), Is.EqualTo(1_048_576));
            Assert.That(info.GetProperty("limits").GetProperty("max_callback_url_length").GetInt32(), Is.EqualTo(2048));
        });
    }

    [Test]
    public async Task Health_and_status_answer_without_a_key_with_exactly_the_contract_fields()
    {
        using var healthResponse = await http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.That((int)healthResponse.StatusCode, Is.EqualTo(200));
        var health = JsonDocument.Parse(await healthResponse.Content.ReadAsStringAsync()).RootElement;
        Assert.That(Keys(health), Is.EquivalentTo(new[] { "status", "version", "timestamp", "checks" }));
        Assert.That(Keys(health.GetProperty("checks")), Is.EquivalentTo(new[] { "database", "broker", "scheduler" }));
        Assert.Multiple(() =>
        {
            Assert.That(health.GetProperty("status").GetString(), Is.AnyOf("healthy", "degraded"));
            Assert.That(health.GetProperty("timestamp").GetString(), Does.Match(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"));
            foreach (var check in health.GetProperty("checks").EnumerateObject())
            {
                Assert.That(check.Value.GetString(), Is.AnyOf("ok", "down", "stale"), check.Name);
            }
        });

        using var statusResponse = await http.GetAsync(new Uri("/status", UriKind.Relative));
        Assert.That((int)statusResponse.StatusCode, Is.EqualTo(200), "the database and broker are up");
        var status = JsonDocument.Parse(await statusResponse.Content.ReadAsStringAsync()).RootElement;
        if (status.GetProperty("status").GetString() == "healthy")
        {
            Assert.That(Keys(status), Is.EquivalentTo(new[] { "status" }));
        }
        else
        {
            Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("degraded"));
            Assert.That(Keys(status), Is.EquivalentTo(new[] { "status", "reason" }));
        }
    }

    private static string[] Keys(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string? key)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await http.SendAsync(request);
    }
}
