using Cue.Api.Accounts;
using Cue.Api.Hosting;
using Marten;

namespace Cue.Api.Executions;

public static class ExecutionEndpoints
{
    public static void MapExecutionEndpoints(this RouteGroupBuilder authed)
    {
        authed.MapGet("/executions", ListAsync);
        authed.MapGet("/executions/{id}", GetAsync);
        authed.MapGet("/executions/{id}/attempts", AttemptsAsync);
        authed.MapOutcomeEndpoints();
    }

    private static async Task<IResult> ListAsync(HttpContext context, IQuerySession session)
    {
        var caller = Caller.From(context);
        var (limit, offset) = Paging.Read(context.Request, defaultLimit: 20);
        var filter = ExecutionFilter.Read(context.Request.Query);
        var query = filter.Apply(session.Query<ExecutionView>().Where(e => e.AccountId == caller.AccountId));

        var total = await query.CountAsync(context.RequestAborted);
        // The page's ids first, then only those documents: a deep offset then walks the (account_id, created_at, id)
        // index alone, index-only, instead of reading every skipped document (0.55 s → 0.08 s at offset 500,000).
        var ids = await query.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Skip(offset).Take(limit)
            .Select(e => e.Id).ToListAsync(context.RequestAborted);
        var found = (await session.LoadManyAsync<ExecutionView>(context.RequestAborted, ids)).ToDictionary(e => e.Id, StringComparer.Ordinal);
        var page = ids.Where(found.ContainsKey).Select(id => found[id]).ToList();
        return Results.Json(new
        {
            executions = page.Select(e => e.ToResponse()),
            total,
            limit,
            offset,
            has_more = offset + page.Count < total,
        }, Json.Options);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, IQuerySession session) =>
        Results.Json((await LoadOwnedAsync(id, context, session)).ToResponse(), Json.Options);

    private static async Task<IResult> AttemptsAsync(string id, HttpContext context, IQuerySession session)
    {
        var execution = await LoadOwnedAsync(id, context, session);
        return Results.Json(new
        {
            attempts = execution.AttemptLog.OrderBy(a => a.Attempt).Select(a => new
            {
                attempt = a.Attempt,
                started_at = a.StartedAt,
                finished_at = a.FinishedAt,
                duration_ms = a.DurationMs,
                result = a.Result,
                http_status = a.HttpStatus,
                error_message = a.ErrorMessage,
                response_body = a.ResponseBody,
                remote_address = a.RemoteAddress,
                retry_after_seconds = a.RetryAfterSeconds,
            }),
        }, Json.Options);
    }

    internal static async Task<ExecutionView> LoadOwnedAsync(string id, HttpContext context, IQuerySession session)
    {
        var execution = IsExecutionId(id) ? await session.LoadAsync<ExecutionView>(id, context.RequestAborted) : null;
        return Owned(execution, id, Caller.From(context));
    }

    /// <summary>Ids are lowercase hyphenated UUIDs; anything else is simply not found (never 400).</summary>
    internal static bool IsExecutionId(string id) => Guid.TryParseExact(id, "D", out var parsed) && parsed.ToString("D") == id;

    /// <summary>The execution if it exists and belongs to the caller; otherwise 404, so other accounts' ids are indistinguishable from unknown ones.</summary>
    internal static ExecutionView Owned(ExecutionView? execution, string id, Caller caller) =>
        execution is not null && execution.AccountId == caller.AccountId ? execution : throw NotFound(id);

    internal static ApiError NotFound(string id) => ApiError.NotFound("execution_not_found", $"No execution with id {id}.");
}
