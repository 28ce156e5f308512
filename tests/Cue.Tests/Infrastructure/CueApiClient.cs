using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Cue.Tests.Infrastructure;

/// <summary>A thin HTTP client for the API under test: raw status codes and JSON, no SDK in between.</summary>
public sealed class CueApiClient(Uri baseAddress) : IDisposable
{
    private readonly HttpClient http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public sealed record Reply(int Status, JsonElement Json, HttpResponseMessage Response);

    public sealed record Account(string ApiKey, string WebhookSecret, string Email);

    public async Task<Account> RegisterAsync(string mode = "test")
    {
        var email = $"t{Guid.NewGuid():N}@example.com";
        var reply = await SendAsync(HttpMethod.Post, "/v1/auth/register", null, new { email, mode });
        if (reply.Status != 201)
        {
            throw new InvalidOperationException($"Register answered {reply.Status}: {reply.Json}");
        }

        return new Account(reply.Json.GetProperty("api_key").GetString()!, reply.Json.GetProperty("webhook_secret").GetString()!, email);
    }

    public Task<Reply> GetAsync(string path, string? apiKey) => SendAsync(HttpMethod.Get, path, apiKey, null);

    public Task<Reply> PostAsync(string path, string? apiKey, object? body) => SendAsync(HttpMethod.Post, path, apiKey, body);

    public async Task<Reply> SendRawAsync(HttpMethod method, string path, string? apiKey, string? body, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return await ReadAsync(await http.SendAsync(request));
    }

    public async Task<Reply> SendAsync(HttpMethod method, string path, string? apiKey, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await ReadAsync(await http.SendAsync(request));
    }

    /// <summary>Polls <paramref name="path"/> until <paramref name="done"/> holds for its JSON, or the timeout passes.</summary>
    public async Task<JsonElement> PollAsync(string path, string? apiKey, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonElement last;
        do
        {
            var reply = await GetAsync(path, apiKey);
            last = reply.Json;
            if (reply.Status == 200 && done(last))
            {
                return last;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        return last;
    }

    public void Dispose() => http.Dispose();

    private static async Task<Reply> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new Reply((int)response.StatusCode, json, response);
    }
}
