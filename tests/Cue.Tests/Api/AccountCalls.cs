using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>Raw calls the account tests need beyond <see cref="CueApiClient"/>: extra headers, and the headers of the reply.</summary>
internal static class AccountCalls
{
    public static async Task<CueApiClient.Reply> SendAsync(
        Uri baseAddress, HttpMethod method, string path, string? apiKey, string? body = null, bool confirm = false, string? confirmValue = null)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (confirm || confirmValue is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Confirm-Destructive", confirmValue ?? "true");
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new CueApiClient.Reply((int)response.StatusCode, json, response);
    }

    public static string Code(this CueApiClient.Reply reply) => reply.Json.GetProperty("error").GetProperty("code").GetString()!;

    public static string? Header(this CueApiClient.Reply reply, string name) =>
        reply.Response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    public static long LongHeader(this CueApiClient.Reply reply, string name)
    {
        var value = reply.Header(name);
        Assert.That(value, Does.Match("^[0-9]+$"), $"{name} is not a non-negative integer: '{value}'");
        return long.Parse(value!, CultureInfo.InvariantCulture);
    }

    public static IEnumerable<string> Names(this JsonElement obj) => obj.EnumerateObject().Select(p => p.Name);

    /// <summary>An integer JSON number (no fraction, no exponent), as the CLI's parsers need.</summary>
    public static long Integer(this JsonElement obj, string name)
    {
        var value = obj.GetProperty(name);
        Assert.That(value.ValueKind, Is.EqualTo(JsonValueKind.Number), $"{name} is {value.ValueKind}");
        Assert.That(value.GetRawText(), Does.Match("^-?[0-9]+$"), $"{name} is not written as an integer");
        return value.GetInt64();
    }
}
