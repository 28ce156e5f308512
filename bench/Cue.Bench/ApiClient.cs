using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Cue.Bench;

/// <summary>The few API calls the bench makes, over plain HTTP with raw status codes.</summary>
internal sealed class ApiClient(Uri baseAddress) : IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 128 })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public sealed record Account(string ApiKey);

    public async Task<Account> RegisterAsync()
    {
        var (status, json) = await SendAsync(HttpMethod.Post, "/v1/auth/register", null, new { email = $"bench-{Guid.NewGuid():N}@example.com", mode = "test" });
        return status == 201
            ? new Account(json.GetProperty("api_key").GetString()!)
            : throw new InvalidOperationException($"register answered {status}: {json}");
    }

    public async Task<JsonElement> MeAsync(string key)
    {
        var (status, json) = await SendAsync(HttpMethod.Get, "/v1/auth/me", key, null);
        return status == 200 ? json : throw new InvalidOperationException($"/v1/auth/me answered {status}: {json}");
    }

    public Task<(int Status, JsonElement Json)> CreateOnceAsync(string key, string name, string at, Uri callback) =>
        SendAsync(HttpMethod.Post, "/v1/cues", key, new
        {
            name,
            schedule = new { type = "once", at },
            callback = new { url = callback.ToString() },
            retry = new { max_attempts = 1 },
            delivery = new { timeout_seconds = 10 },
            on_failure = new { email = false },
        });

    public async Task BulkDeleteAsync(string key, IReadOnlyList<string> ids)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/cues/bulk-delete") { Content = JsonContent.Create(new { ids }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Add("X-Confirm-Destructive", "true");
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"bulk-delete answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    public Task<(int Status, JsonElement Json)> GetAsync(string key, string pathAndQuery) => SendAsync(HttpMethod.Get, pathAndQuery, key, null);

    /// <summary>A GET timed from sending the request until the whole body has been read (not parsed).</summary>
    public async Task<(int Status, double Milliseconds, string Body)> TimedGetAsync(string key, string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, body);
    }

    private async Task<(int Status, JsonElement Json)> SendAsync(HttpMethod method, string path, string? key, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return ((int)response.StatusCode, json);
    }

    public void Dispose() => http.Dispose();
}
