using Cue.Api.Hosting;
using Marten;

namespace Cue.Api.Accounts;

/// <summary>The account behind the request's API key.</summary>
public sealed record Caller(Guid AccountId, string Mode)
{
    public bool IsTest => Mode == "test";

    public static Caller From(HttpContext context) =>
        context.Items[typeof(Caller)] as Caller ?? throw new InvalidOperationException("The endpoint is not behind the API key filter.");
}

/// <summary>
/// Requires <c>Authorization: Bearer &lt;api key&gt;</c> on the <c>/v1</c> endpoints that need one (§2):
/// the key is hashed and looked up by hash; any failure is 401 <c>invalid_api_key</c>.
/// </summary>
public sealed class ApiKeyFilter(IQuerySession session) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw ApiError.Unauthorized("invalid_api_key", "Missing or malformed Authorization header; use 'Authorization: Bearer <api key>'.");
        }

        var key = header[scheme.Length..].Trim();
        if (!Secrets.LooksLikeApiKey(key))
        {
            throw ApiError.Unauthorized("invalid_api_key", "The API key is not valid.");
        }

        var record = await session.LoadAsync<ApiKeyRecord>(Secrets.HashApiKey(key), http.RequestAborted)
            ?? throw ApiError.Unauthorized("invalid_api_key", "The API key is not valid.");
        http.Items[typeof(Caller)] = new Caller(record.AccountId, record.Mode);
        return await next(context);
    }
}
