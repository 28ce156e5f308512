using System.Text.Json;
using Cue.Api.Hosting;

namespace Cue.Api.Dashboard;

/// <summary>
/// Reading the REST responses the pages render. The dashboard shows what the API would answer, built by
/// the same functions, so it reads their JSON rather than the stored views.
/// </summary>
public static class Wire
{
    public static JsonElement ToElement(object response) => JsonSerializer.SerializeToElement(response, Json.Options);

    /// <summary>A member as text: strings as they are, numbers and booleans as written; null when absent or null.</summary>
    public static string? Text(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => value.GetRawText(),
            }
            : null;

    public static JsonElement Member(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    public static IEnumerable<JsonElement> Items(this JsonElement element, string name) =>
        element.Member(name) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];

    public static int Int(this JsonElement element, string name) =>
        element.Member(name) is { ValueKind: JsonValueKind.Number } number ? number.GetInt32() : 0;

    /// <summary>A JSON member indented for reading (payloads, outcome metadata).</summary>
    public static string? Pretty(this JsonElement element, string name) =>
        element.Member(name) is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } value
            ? JsonSerializer.Serialize(value, PrettyOptions)
            : null;

    public static DateTimeOffset? Instant(this JsonElement element, string name) =>
        element.Text(name) is { } text && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var instant)
            ? instant
            : null;

    private static readonly JsonSerializerOptions PrettyOptions = new()
    {
        WriteIndented = true,
        // Shown as text in the page (Razor encodes it); the default escaping would turn é or < into \u sequences.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
