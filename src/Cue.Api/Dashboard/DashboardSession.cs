using System.Security.Cryptography;
using System.Text;
using Cue.Api.Accounts;
using Marten;

namespace Cue.Api.Dashboard;

/// <summary>
/// A signed-in browser, kept server-side. The cookie holds a random token; only its SHA-256 is stored, so
/// a read of the table opens no session. The API key is never stored: only the hash of the key the session
/// was opened with, so regenerating the key (which retires that hash) ends every session opened with it.
/// </summary>
public sealed class DashboardSession
{
    /// <summary>Lowercase hex SHA-256 of the cookie's token.</summary>
    public string Id { get; set; } = "";
    public Guid AccountId { get; set; }
    public string ApiKeyHash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>The request's signed-in account, as the session middleware found it.</summary>
public sealed record DashboardUser(Caller Caller, string SessionId, string CsrfToken);

/// <summary>Opening, resolving and closing <see cref="DashboardSession"/>s, and the cookies that carry them.</summary>
public static class DashboardSessions
{
    public const string CookieName = "cue_session";
    /// <summary>The sign-in form's own anti-forgery cookie (double submit): there is no session to tie it to yet.</summary>
    public const string SignInCookieName = "cue_sign_in";
    public const string CsrfField = "csrf";

    /// <summary>Absolute lifetime: a session is not extended by use, so a stolen cookie stops working on its own.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The session's form token: derived from the cookie's secret token, so it needs no storage, and a page
    /// from another origin (which cannot read the HttpOnly cookie) cannot compute it.
    /// </summary>
    public static string CsrfFor(string token) => Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes("cue-dashboard-csrf:" + token)));

    public static bool SameToken(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    public static CookieOptions CookieOptions(DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        // Secure even on the plain-HTTP loopback stack: browsers accept Secure cookies from http://localhost and 127.0.0.1.
        Secure = true,
        SameSite = SameSiteMode.Strict,
        Path = DashboardEndpoints.Root,
        Expires = expires,
        IsEssential = true,
    };

    /// <summary>Opens a session for the account whose key hashes to <paramref name="apiKeyHash"/>; returns the cookie token.</summary>
    public static async Task<string> OpenAsync(IDocumentSession session, Guid accountId, string apiKeyHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var token = NewToken();
        session.Store(new DashboardSession { Id = Hash(token), AccountId = accountId, ApiKeyHash = apiKeyHash, CreatedAt = now, ExpiresAt = now + Lifetime });
        // Expired sessions are swept here rather than by a job: sign-ins are rare and this keeps the table small.
        session.DeleteWhere<DashboardSession>(s => s.ExpiresAt < now);
        await session.SaveChangesAsync(cancellationToken);
        return token;
    }

    /// <summary>The signed-in account for a cookie token, or null when the session is unknown, expired, or its key was replaced.</summary>
    public static async Task<DashboardUser?> ResolveAsync(IQuerySession session, string token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = Hash(token);
        var stored = await session.LoadAsync<DashboardSession>(id, cancellationToken);
        if (stored is null || stored.ExpiresAt <= now)
        {
            return null;
        }

        var key = await session.LoadAsync<ApiKeyRecord>(stored.ApiKeyHash, cancellationToken);
        return key is not null && key.AccountId == stored.AccountId
            ? new DashboardUser(new Caller(key.AccountId, key.Mode) { KeyHash = stored.ApiKeyHash }, id, CsrfFor(token))
            : null;
    }

    public static async Task CloseAsync(IDocumentSession session, string sessionId, CancellationToken cancellationToken)
    {
        session.Delete<DashboardSession>(sessionId);
        await session.SaveChangesAsync(cancellationToken);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// On <c>/dashboard</c> requests: resolves the session cookie before the rate limiter runs, so a signed-in
/// browser spends its key's budget (§4) rather than the anonymous per-IP one, and adds the dashboard's
/// browser security headers to every response, errors included.
/// </summary>
public sealed class DashboardSessionMiddleware(RequestDelegate next)
{
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(DashboardEndpoints.Root))
        {
            await next(context);
            return;
        }

        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            if (!headers.ContainsKey("Cache-Control"))
            {
                // Pages show account data: never kept by the browser or a proxy.
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        });

        if (context.Request.Cookies.TryGetValue(DashboardSessions.CookieName, out var token) && token.Length is > 0 and <= 100)
        {
            var session = context.RequestServices.GetRequiredService<IQuerySession>();
            var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            if (await DashboardSessions.ResolveAsync(session, token, now, context.RequestAborted) is { } user)
            {
                context.Items[typeof(DashboardUser)] = user;
                context.Items[typeof(Caller)] = user.Caller;
                context.Items[typeof(KeyResolution)] = new KeyResolution(user.Caller, false);
            }
        }

        await next(context);
    }
}
