using Cue.Api.Hosting;
using Marten;

namespace Cue.Api.Accounts;

/// <summary>The account behind the request's API key.</summary>
public sealed record Caller(Guid AccountId, string Mode)
{
    public bool IsTest => Mode == "test";

    /// <summary>The SHA-256 (hex) of the key the request presented: its rate-limit partition and what a key rotation replaces.</summary>
    public string KeyHash { get; init; } = "";

    public static Caller From(HttpContext context) =>
        context.Items[typeof(Caller)] as Caller ?? throw new InvalidOperationException("The endpoint is not behind the API key filter.");
}

/// <summary>What the request's <c>Authorization</c> header amounts to: a caller, a replaced key, or nothing valid.</summary>
public sealed record KeyResolution(Caller? Caller, bool Rotated)
{
    private static readonly KeyResolution Invalid = new(null, false);

    /// <summary>
    /// Resolves the request's key once (one lookup by hash) and keeps the answer on the request, so the
    /// rate limiter's partition and the endpoint filter's decision come from the same lookup.
    /// </summary>
    public static async ValueTask<KeyResolution> OfAsync(HttpContext http)
    {
        if (http.Items[typeof(KeyResolution)] is KeyResolution known)
        {
            return known;
        }

        var resolved = await LookUpAsync(http);
        http.Items[typeof(KeyResolution)] = resolved;
        return resolved;
    }

    private static async Task<KeyResolution> LookUpAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Invalid;
        }

        var key = header[scheme.Length..].Trim();
        if (!Secrets.LooksLikeApiKey(key))
        {
            return Invalid;
        }

        var hash = Secrets.HashApiKey(key);
        var session = http.RequestServices.GetRequiredService<IQuerySession>();
        if (await session.LoadAsync<ApiKeyRecord>(hash, http.RequestAborted) is { } record)
        {
            return new KeyResolution(new Caller(record.AccountId, record.Mode) { KeyHash = hash }, false);
        }

        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        return await session.LoadAsync<RotatedApiKey>(hash, http.RequestAborted) is { } rotated && rotated.IsRecognisedAt(now)
            ? new KeyResolution(null, true)
            : Invalid;
    }
}

/// <summary>
/// Requires <c>Authorization: Bearer &lt;api key&gt;</c> on the <c>/v1</c> endpoints that need one (§2):
/// the key is hashed and looked up by hash; a replaced key is 401 <c>key_rotated</c> for 24 h, any other
/// failure 401 <c>invalid_api_key</c>.
/// </summary>
public sealed class ApiKeyFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var resolution = await KeyResolution.OfAsync(http);
        if (resolution.Caller is null)
        {
            throw resolution.Rotated
                ? ApiError.Unauthorized("key_rotated", "This API key was replaced by a newer one; use the new key.")
                : ApiError.Unauthorized("invalid_api_key", "Missing or invalid API key; use 'Authorization: Bearer <api key>'.");
        }

        http.Items[typeof(Caller)] = resolution.Caller;
        return await next(context);
    }
}
