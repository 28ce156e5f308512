using System.Globalization;

namespace Cue.Api.Hosting;

/// <summary>The contract's <c>limit</c>/<c>offset</c> query parameters (§4).</summary>
public static class Paging
{
    public static (int Limit, int Offset) Read(HttpRequest request, int defaultLimit)
    {
        var limit = Parse(request, "limit", defaultLimit);
        var offset = Parse(request, "offset", 0);
        if (limit is < 1 or > 100)
        {
            throw ApiError.Validation("limit", "Must be an integer 1–100.");
        }

        if (offset < 0)
        {
            throw ApiError.Validation("offset", "Must be an integer ≥ 0.");
        }

        return (limit, offset);
    }

    /// <summary>One integer query parameter within [<paramref name="min"/>, <paramref name="max"/>], else 422.</summary>
    public static int ReadOne(HttpRequest request, string name, int fallback, int min, int max)
    {
        var value = Parse(request, name, fallback);
        return value >= min && value <= max ? value : throw ApiError.Validation(name, $"Must be an integer {min}–{max}.");
    }

    private static int Parse(HttpRequest request, string name, int fallback)
    {
        if (!request.Query.TryGetValue(name, out var values))
        {
            return fallback;
        }

        return int.TryParse(values.ToString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ApiError.Validation(name, "Must be an integer.");
    }
}
