using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace Cue.Api.Hosting;

/// <summary>Reads a request body as the contract's JSON object (§1), with the contract's errors.</summary>
public static class JsonBody
{
    public const int MaxBytes = 1_048_576;

    /// <summary>
    /// Kestrel's own cap, a backstop above <see cref="MaxBytes"/>: on a chunked body Kestrel counts the chunk
    /// framing too, so at exactly <see cref="MaxBytes"/> it would refuse bodies under the limit. The contract's
    /// limit is enforced here on the bytes actually read, and on a declared Content-Length by <see cref="BodyRules"/>.
    /// </summary>
    public const int ServerLimitBytes = 4 * MaxBytes;

    /// <summary>The body as a JSON object; an absent or empty body is <c>{}</c> when <paramref name="optional"/>.</summary>
    public static async Task<(JsonElement Body, byte[] Raw)> ReadObjectAsync(HttpRequest request, bool optional = false)
    {
        if (request.ContentLength > MaxBytes)
        {
            throw new ApiError(StatusCodes.Status413PayloadTooLarge, "request_too_large", "The request body is over 1,048,576 bytes.");
        }

        // Stop at the first byte over the limit, so a chunked body that crosses it mid-stream is never buffered whole.
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                throw new ApiError(StatusCodes.Status413PayloadTooLarge, "request_too_large", "The request body is over 1,048,576 bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        var raw = buffer.ToArray();
        if (raw.Length == 0)
        {
            if (optional)
            {
                return (JsonDocument.Parse("{}").RootElement.Clone(), "{}"u8.ToArray());
            }

            throw ApiError.BadRequest("invalid_json", "The request body must be a JSON object.");
        }

        if (!IsJson(request.ContentType))
        {
            throw new ApiError(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "The request body must be JSON (Content-Type: application/json).");
        }

        try
        {
            using var document = JsonDocument.Parse(raw, new JsonDocumentOptions { MaxDepth = 64 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ApiError.BadRequest("invalid_json", "The request body must be a JSON object.");
            }

            if (!HasOnlyValidStrings(document.RootElement))
            {
                throw ApiError.BadRequest("invalid_json", "The request body holds a string that is not valid Unicode (a lone surrogate escape or invalid UTF-8).");
            }

            return (document.RootElement.Clone(), raw);
        }
        catch (JsonException)
        {
            throw ApiError.BadRequest("invalid_json", "The request body is not valid JSON.");
        }
    }

    /// <summary>
    /// The parser checks a string's escapes only when it is read: <c>"\ud800"</c> parses, and reading it later throws.
    /// Every property name and string value is read once here, so no handler meets that exception (as a 500).
    /// </summary>
    private static bool HasOnlyValidStrings(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    _ = element.GetString();
                    return true;
                case JsonValueKind.Array:
                    return element.EnumerateArray().All(HasOnlyValidStrings);
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        _ = property.Name;
                        if (!HasOnlyValidStrings(property.Value))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Whether a Content-Type names JSON: <c>application/json</c> or an <c>application/*+json</c> type, any parameters.</summary>
    internal static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            return false;
        }

        return type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>
/// Typed access to the members of one request object. Each read records the member as known, so
/// <see cref="RejectUnknown"/> can name any member the contract does not define (422).
/// </summary>
public sealed class JsonFields(JsonElement obj, string prefix = "")
{
    private readonly HashSet<string> known = new(StringComparer.Ordinal);

    public string Path(string name) => prefix.Length == 0 ? name : prefix + "." + name;

    public bool Has(string name)
    {
        known.Add(name);
        return obj.TryGetProperty(name, out _);
    }

    public JsonElement? Raw(string name)
    {
        known.Add(name);
        return obj.TryGetProperty(name, out var value) ? value : null;
    }

    public string? String(string name, bool required = false, bool nullable = true)
    {
        var value = Raw(name);
        if (value is null)
        {
            return required ? throw ApiError.Validation(Path(name), "Field required.") : null;
        }

        return value.Value.ValueKind switch
        {
            JsonValueKind.String => value.Value.GetString(),
            JsonValueKind.Null when nullable && !required => null,
            JsonValueKind.Null => throw ApiError.Validation(Path(name), required ? "Field required." : "Must not be null."),
            _ => throw ApiError.Validation(Path(name), "Must be a string."),
        };
    }

    public int? Int(string name)
    {
        var value = Raw(name);
        if (value is null)
        {
            return null;
        }

        if (value.Value.ValueKind == JsonValueKind.Number && value.Value.TryGetInt32(out var number))
        {
            return number;
        }

        throw ApiError.Validation(Path(name), value.Value.ValueKind == JsonValueKind.Null ? "Must not be null." : "Must be an integer.");
    }

    public bool? Bool(string name)
    {
        var value = Raw(name);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => throw ApiError.Validation(Path(name), "Must not be null."),
            _ => throw ApiError.Validation(Path(name), "Must be a boolean."),
        };
    }

    /// <summary>A nested object; null when absent (or JSON null and <paramref name="nullable"/>).</summary>
    public JsonFields? Object(string name, bool required = false, bool nullable = false)
    {
        var value = Raw(name);
        if (value is null || (value.Value.ValueKind == JsonValueKind.Null && nullable))
        {
            return required ? throw ApiError.Validation(Path(name), "Field required.") : null;
        }

        if (value.Value.ValueKind != JsonValueKind.Object)
        {
            throw ApiError.Validation(Path(name), "Must be an object.");
        }

        return new JsonFields(value.Value, Path(name));
    }

    public IEnumerable<JsonProperty> Members() => obj.EnumerateObject();

    public void RejectUnknown()
    {
        foreach (var member in obj.EnumerateObject())
        {
            if (!known.Contains(member.Name))
            {
                throw ApiError.Validation(Path(member.Name), "Unknown field.");
            }
        }
    }
}
