using System.Text.Json;
using Cue.Api.Accounts;
using Cue.Api.Cues;
using Cue.Api.Dashboard.Pages;
using Cue.Api.Executions;
using Cue.Api.Hosting;
using Cue.Encryption;
using Marten;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace Cue.Api.Dashboard;

/// <summary>
/// The dashboard at <c>/dashboard</c>: server-rendered pages over the same reads and decisions as the REST
/// API (the handlers' shared functions in Cues/ and Executions/), a session cookie instead of a bearer key,
/// and a per-session form token on every state change. Not part of the API: left out of the OpenAPI document.
/// </summary>
public static class DashboardEndpoints
{
    public const string Root = "/dashboard";
    private const int PageSize = 50;

    private static readonly Dictionary<string, string> Notices = new(StringComparer.Ordinal)
    {
        ["paused"] = "Cue paused: no new occurrences until it is resumed.",
        ["resumed"] = "Cue resumed; its next run was computed from now.",
        ["fired"] = "Fired: a new execution was created.",
        ["deleted"] = "Cue deleted.",
        ["signed-out"] = "You are signed out.",
    };

    public static WebApplicationBuilder AddCueDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents();
        builder.Services.ConfigureMarten(options => options.Schema.For<DashboardSession>());
        return builder;
    }

    /// <summary>Goes before the rate limiter (see <see cref="DashboardSessionMiddleware"/>).</summary>
    public static WebApplication UseCueDashboardSessions(this WebApplication app)
    {
        app.UseMiddleware<DashboardSessionMiddleware>();
        return app;
    }

    public static WebApplication MapCueDashboard(this WebApplication app)
    {
        var root = app.MapGroup(Root).ExcludeFromDescription();
        root.MapGet("", IResult (HttpContext context) => SeeOther(Root + (CurrentUser(context) is null ? "/sign-in" : "/cues")));
        root.MapGet("/assets/{name}", DashboardAssets.Serve);
        root.MapGet("/sign-in", IResult (HttpContext context) => CurrentUser(context) is null ? SignInForm(context, null, StatusCodes.Status200OK) : SeeOther(Root + "/cues"));
        root.MapPost("/sign-in", SignInAsync);

        var signedIn = root.MapGroup("").AddEndpointFilter(RequireSignedInAsync);
        signedIn.MapPost("/sign-out", SignOutAsync);
        signedIn.MapGet("/cues", CuesAsync);
        signedIn.MapGet("/cues/{id}", CueAsync);
        signedIn.MapPost("/cues/{id}/{action}", CueActionAsync);
        signedIn.MapGet("/executions", ExecutionsAsync);
        signedIn.MapGet("/executions/feed", LiveFeed.Stream);
        signedIn.MapGet("/executions/{id}", ExecutionAsync);
        return app;
    }

    internal static DashboardUser? CurrentUser(HttpContext context) => context.Items[typeof(DashboardUser)] as DashboardUser;

    /// <summary>
    /// Signed-in pages only; a state change also needs the session's form token (constant-time compare).
    /// SameSite=Strict already keeps the cookie off cross-site posts; the token covers same-site pages and old browsers.
    /// </summary>
    private static async ValueTask<object?> RequireSignedInAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (CurrentUser(http) is not { } user)
        {
            // A live feed whose session ended gets 204: EventSource stops reconnecting on it.
            return http.Request.Path.StartsWithSegments(Root + "/executions/feed") ? Results.NoContent() : SeeOther(Root + "/sign-in");
        }

        if (HttpMethods.IsPost(http.Request.Method))
        {
            var form = await ReadFormAsync(http);
            if (form is null || !DashboardSessions.SameToken(form[DashboardSessions.CsrfField].ToString(), user.CsrfToken))
            {
                return Error(user, StatusCodes.Status403Forbidden, "The form was refused",
                    "It did not carry this session's security token. Go back, reload the page and try again.", Root + "/cues");
            }

            http.Items[typeof(IFormCollection)] = form;
        }

        return await next(context);
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IDocumentSession session, TimeProvider time)
    {
        var form = await ReadFormAsync(context);
        var expected = context.Request.Cookies[DashboardSessions.SignInCookieName];
        if (form is null || expected is null || !DashboardSessions.SameToken(form[DashboardSessions.CsrfField].ToString(), expected))
        {
            return SignInForm(context, "The sign-in form had expired. Please enter your key again.", StatusCodes.Status403Forbidden);
        }

        // The key is only hashed and looked up: never stored, logged, echoed into the form, or put in a URL.
        var key = form["api_key"].ToString().Trim();
        var hash = Secrets.LooksLikeApiKey(key) ? Secrets.HashApiKey(key) : null;
        var record = hash is null ? null : await session.LoadAsync<ApiKeyRecord>(hash, context.RequestAborted);
        var now = time.GetUtcNow();
        if (record is null)
        {
            var rotated = hash is not null && await session.LoadAsync<RotatedApiKey>(hash, context.RequestAborted) is { } old && old.IsRecognisedAt(now);
            return SignInForm(context, rotated
                ? "That API key was replaced by a newer one. Sign in with the new key."
                : "That API key is not valid. Check it and try again.", StatusCodes.Status401Unauthorized);
        }

        var token = await DashboardSessions.OpenAsync(session, record.AccountId, hash!, now, context.RequestAborted);
        context.Response.Cookies.Append(DashboardSessions.CookieName, token, DashboardSessions.CookieOptions(now + DashboardSessions.Lifetime));
        context.Response.Cookies.Delete(DashboardSessions.SignInCookieName, DashboardSessions.CookieOptions(null));
        return SeeOther(Root + "/cues");
    }

    private static RazorComponentResult SignInForm(HttpContext context, string? error, int status)
    {
        var token = DashboardSessions.NewToken();
        context.Response.Cookies.Append(DashboardSessions.SignInCookieName, token, DashboardSessions.CookieOptions(null));
        return Page<SignInPage>(new { SignInToken = token, Error = error, Notice = NoticeOf(context) }, status);
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, IDocumentSession session)
    {
        await DashboardSessions.CloseAsync(session, CurrentUser(context)!.SessionId, context.RequestAborted);
        context.Response.Cookies.Delete(DashboardSessions.CookieName, DashboardSessions.CookieOptions(null));
        return SeeOther(Root + "/sign-in?done=signed-out");
    }

    private static async Task<IResult> CuesAsync(HttpContext context, IDocumentStore store, IQuerySession session, NpgsqlDataSource dataSource, KeyRing keyRing, TimeProvider time)
    {
        var user = CurrentUser(context)!;
        var cipher = await keyRing.ForAccountAsync(user.Caller.AccountId, context.RequestAborted);
        var status = QueryValue(context, "status");
        var offset = Offset(context);
        try
        {
            var list = Wire.ToElement(await CueEndpoints.ListResponseAsync(user.Caller, cipher, status, PageSize, offset, session, dataSource, time.GetUtcNow(), context.RequestAborted));
            var ids = list.Items("cues").Select(c => c.Text("id")!).ToList();
            var outcomes = await LastOutcomes.LoadAsync(store, dataSource, ids, context.RequestAborted);
            return Page<CuesPage>(new { user.CsrfToken, List = list, Outcomes = outcomes, Status = status, Offset = offset, Notice = NoticeOf(context) });
        }
        catch (ApiError error)
        {
            return Page<CuesPage>(new { user.CsrfToken, Status = status, Offset = offset, Error = error.Message }, error.Status);
        }
    }

    private static async Task<IResult> CueAsync(string id, HttpContext context, IDocumentStore store, IQuerySession session, NpgsqlDataSource dataSource, KeyRing keyRing, TimeProvider time)
    {
        var user = CurrentUser(context)!;
        var cipher = await keyRing.ForAccountAsync(user.Caller.AccountId, context.RequestAborted);
        try
        {
            var cue = await CueEndpoints.LoadOwnedAsync(id, user.Caller, session, context.RequestAborted);
            var offset = Offset(context);
            var detail = Wire.ToElement(await CueEndpoints.DetailResponseAsync(cue, user.Caller, cipher, PageSize, offset, session, dataSource, time.GetUtcNow(), context.RequestAborted));
            var outcomes = await LastOutcomes.LoadAsync(store, dataSource, [cue.Id], context.RequestAborted);
            var executed = QueryValue(context, "execution") is { } execution && ExecutionEndpoints.IsExecutionId(execution) ? execution : null;
            return Page<CuePage>(new
            {
                user.CsrfToken,
                Cue = detail,
                LastOutcome = outcomes.GetValueOrDefault(cue.Id),
                Offset = offset,
                Notice = NoticeOf(context),
                NoticeExecution = executed,
                FeedUrl = offset == 0 ? FeedUrl(new Dictionary<string, StringValues> { ["cue_id"] = cue.Id }, time.GetUtcNow()) : null,
            });
        }
        catch (ApiError error)
        {
            return Error(user, error.Status, "Cue not shown", error.Message, Root + "/cues");
        }
    }

    private static async Task<IResult> CueActionAsync(string id, string action, HttpContext context, IDocumentStore store, KeyRing keyRing, Quotas quotas, TimeProvider time)
    {
        var user = CurrentUser(context)!;
        var cipher = await keyRing.ForAccountAsync(user.Caller.AccountId, context.RequestAborted);
        var form = (IFormCollection)context.Items[typeof(IFormCollection)]!;
        var back = ReturnPath(form["return"].ToString(), Root + "/cues/" + id);
        var cancellationToken = context.RequestAborted;
        try
        {
            switch (action)
            {
                case "pause":
                    await CueEndpoints.UpdateOwnedAsync(id, Body("""{"status": "paused"}"""), user.Caller, cipher, store, quotas, time, cancellationToken);
                    return SeeOther(back + "?done=paused");
                case "resume":
                    await CueEndpoints.UpdateOwnedAsync(id, Body("""{"status": "active"}"""), user.Caller, cipher, store, quotas, time, cancellationToken);
                    return SeeOther(back + "?done=resumed");
                case "fire":
                    await using (var session = store.LightweightSession())
                    {
                        var cue = await CueEndpoints.LoadOwnedAsync(id, user.Caller, session, cancellationToken);
                        var execution = await FireEndpoints.FireOwnedAsync(cue, Body("{}"), user.Caller, cipher, session, quotas, time, cancellationToken);
                        return SeeOther($"{back}?done=fired&execution={execution.Id}");
                    }

                case "delete":
                    await CueEndpoints.DeleteOwnedAsync(id, user.Caller, store, time, cancellationToken);
                    return SeeOther(Root + "/cues?done=deleted");
                default:
                    return Error(user, StatusCodes.Status404NotFound, "No such action", "Cues can be paused, resumed, fired or deleted.", back);
            }
        }
        catch (ApiError error)
        {
            // The API's own answer (409, 422, quota 403, 404…) shown on the page rather than as JSON.
            return Error(user, error.Status, "The cue was not changed", error.Message, back);
        }
    }

    private static async Task<IResult> ExecutionsAsync(HttpContext context, IQuerySession session, NpgsqlDataSource dataSource, KeyRing keyRing, TimeProvider time)
    {
        var user = CurrentUser(context)!;
        var cipher = await keyRing.ForAccountAsync(user.Caller.AccountId, context.RequestAborted);
        var now = time.GetUtcNow();
        var offset = Offset(context);
        var cues = Wire.ToElement(await CueEndpoints.ListResponseAsync(user.Caller, cipher, null, 100, 0, session, dataSource, now, context.RequestAborted));
        var chart = await FireLagChart.LoadAsync(session, user.Caller, now, context.RequestAborted);
        var filters = DashboardFilters.Normalise(context.Request.Query);
        JsonElement list = default;
        string? error = null;
        var status = StatusCodes.Status200OK;
        try
        {
            var filter = ExecutionFilter.Read(new QueryCollection(filters));
            list = Wire.ToElement(await ExecutionEndpoints.ListResponseAsync(user.Caller, cipher, filter, PageSize, offset, session, dataSource, context.RequestAborted));
        }
        catch (ApiError bad)
        {
            (error, status) = (bad.Message, bad.Status);
        }

        var names = await CueNames.LoadAsync(session, user.Caller, list.Items("executions").Select(e => e.Text("cue_id")!), context.RequestAborted);
        return Page<ExecutionsPage>(new
        {
            user.CsrfToken,
            List = list,
            Cues = cues,
            Names = names,
            Chart = chart,
            Filters = filters.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal),
            Offset = offset,
            Error = error,
            FeedUrl = offset == 0 && error is null ? FeedUrl(filters, now) : null,
        }, status);
    }

    private static async Task<IResult> ExecutionAsync(string id, HttpContext context, IQuerySession session, KeyRing keyRing)
    {
        var user = CurrentUser(context)!;
        var cipher = await keyRing.ForAccountAsync(user.Caller.AccountId, context.RequestAborted);
        try
        {
            var execution = await ExecutionEndpoints.LoadOwnedAsync(id, context, session);
            var names = await CueNames.LoadAsync(session, user.Caller, [execution.CueId], context.RequestAborted);
            return Page<ExecutionPage>(new
            {
                user.CsrfToken,
                Execution = Wire.ToElement(execution.ToResponse(cipher)),
                Attempts = Wire.ToElement(ExecutionEndpoints.AttemptsResponse(execution, cipher)),
                CueName = names.GetValueOrDefault(execution.CueId),
            });
        }
        catch (ApiError error)
        {
            return Error(user, error.Status, "Execution not shown", error.Message, Root + "/executions");
        }
    }

    private static string FeedUrl(IReadOnlyDictionary<string, StringValues> filters, DateTimeOffset now) =>
        Root + "/executions/feed?" + string.Join('&', filters.Where(f => f.Value.ToString().Length > 0)
            .Select(f => f.Key + "=" + Uri.EscapeDataString(f.Value.ToString()))
            .Append("after=" + Uri.EscapeDataString(Contracts.Timestamps.ToWire(now))));

    internal static RazorComponentResult Page<TPage>(object parameters, int status = StatusCodes.Status200OK) where TPage : IComponent =>
        new RazorComponentResult<TPage>(parameters) { StatusCode = status };

    private static RazorComponentResult Error(DashboardUser? user, int status, string title, string message, string back) =>
        Page<ErrorPage>(new { user?.CsrfToken, Status = status, Title = title, Message = message, Back = back }, status);

    private static SeeOtherResult SeeOther(string location) => new(location);

    private static async Task<IFormCollection?> ReadFormAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return null;
        }

        try
        {
            return await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static JsonElement Body(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static string? QueryValue(HttpContext context, string name) => context.Request.Query[name].ToString() is { Length: > 0 } value ? value : null;

    private static int Offset(HttpContext context) =>
        int.TryParse(QueryValue(context, "offset"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset) ? offset : 0;

    private static string? NoticeOf(HttpContext context) => QueryValue(context, "done") is { } done ? Notices.GetValueOrDefault(done) : null;

    /// <summary>Where a form asked to go back to: only a dashboard page of this site, never another host.</summary>
    private static string ReturnPath(string given, string fallback) =>
        given.StartsWith(Root + "/", StringComparison.Ordinal) && !given.Contains("//", StringComparison.Ordinal) && !given.Contains('\\', StringComparison.Ordinal)
            && !given.Contains('?', StringComparison.Ordinal) && given.All(c => c > ' ' && c < 127)
            ? given
            : fallback;

    /// <summary>303 See Other: after a form post the browser loads the next page with GET.</summary>
    private sealed class SeeOtherResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}

/// <summary>The audit trail's filter form as <see cref="ExecutionFilter"/> query parameters.</summary>
public static class DashboardFilters
{
    public static readonly string[] Names = ["cue_id", "status", "outcome_state", "since", "until"];

    /// <summary>Keeps the filter parameters; a browser's datetime-local value ("2026-03-20T16:00") is read as UTC, seconds added.</summary>
    public static Dictionary<string, StringValues> Normalise(IQueryCollection query)
    {
        var filters = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        foreach (var name in Names)
        {
            var value = query[name].ToString().Trim();
            if (value.Length == 0)
            {
                continue;
            }

            if (name is "since" or "until" && value.Length == 16 && value[10] == 'T')
            {
                value += ":00";
            }

            filters[name] = value;
        }

        return filters;
    }

    public static IQueryCollection ToQuery(IQueryCollection query) => new QueryCollection(Normalise(query));
}

/// <summary>Each cue's latest finished execution: the cues page's "last outcome".</summary>
public sealed record LastOutcome(string Status, string? OutcomeState, DateTimeOffset FinishedAt);

public static class LastOutcomes
{
    public static async Task<IReadOnlyDictionary<string, LastOutcome>> LoadAsync(IDocumentStore store, NpgsqlDataSource dataSource, IReadOnlyCollection<string> cueIds, CancellationToken cancellationToken)
    {
        var outcomes = new Dictionary<string, LastOutcome>(StringComparer.Ordinal);
        if (cueIds.Count == 0)
        {
            return outcomes;
        }

        // The duplicated columns CueStats reads too: no document is deserialised for a list page.
        var table = store.Options.FindOrResolveDocumentType(typeof(ExecutionView)).TableName.QualifiedName;
        await using var command = dataSource.CreateCommand(
            $"""
            select distinct on (cue_id) cue_id, status, outcome_state, finished_at
            from {table} where cue_id = any($1) and finished_at is not null
            order by cue_id, finished_at desc
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = cueIds.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            outcomes[reader.GetString(0)] = new LastOutcome(reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero));
        }

        return outcomes;
    }
}
