using System.Security.Cryptography;

namespace Cue.Api.Dashboard;

/// <summary>
/// The dashboard's one stylesheet and one script, embedded in the assembly and served by Cue itself: the
/// pages work with no internet access and no separate static-file deployment. No fonts: the system's own.
/// </summary>
public static class DashboardAssets
{
    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    private static readonly Dictionary<string, Asset> All = new(StringComparer.Ordinal)
    {
        ["dashboard.css"] = Load("dashboard.css", "text/css; charset=utf-8"),
        ["dashboard.js"] = Load("dashboard.js", "text/javascript; charset=utf-8"),
    };

    public static IResult Serve(string name, HttpContext context)
    {
        if (!All.TryGetValue(name, out var asset))
        {
            // Left without a body: the error envelope answers 404 not_found like any unknown route.
            return Results.StatusCode(StatusCodes.Status404NotFound);
        }

        // Revalidated on each use (cheap 304s), so a new version is never hidden behind a cached one.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.ETag = asset.ETag;
        return context.Request.Headers.IfNoneMatch == asset.ETag
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static Asset Load(string name, string contentType)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream("Cue.Api.Dashboard.Assets." + name)
            ?? throw new InvalidOperationException($"The dashboard asset {name} is not embedded in the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.ToArray();
        return new Asset(bytes, contentType, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
    }
}
