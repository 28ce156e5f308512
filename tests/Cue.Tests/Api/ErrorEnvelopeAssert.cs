using System.Text.Json;

namespace Cue.Tests.Api;

/// <summary>Checks a response is the contract's error envelope (§3) with the given status and code.</summary>
internal static class ErrorEnvelopeAssert
{
    public static async Task<JsonElement> IsAsync(HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.EqualTo(status), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), text);
        Assert.That(response.Content.Headers.ContentType?.CharSet, Is.EqualTo("utf-8"));
        Assert.That(response.Headers.TryGetValues("X-Request-Id", out var ids) ? ids.Single() : "", Is.Not.Empty, "X-Request-Id");

        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        Assert.That(root.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "error" }), text);
        var error = root.GetProperty("error");
        Assert.Multiple(() =>
        {
            Assert.That(error.GetProperty("code").GetString(), Is.EqualTo(code), text);
            Assert.That(error.GetProperty("status").GetInt32(), Is.EqualTo(status), text);
            Assert.That(error.GetProperty("message").GetString(), Is.Not.Empty, text);
        });
        return error.Clone();
    }
}
