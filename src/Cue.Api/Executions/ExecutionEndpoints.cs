using Cue.Api.Accounts;
using Cue.Api.Hosting;
using Marten;

namespace Cue.Api.Executions;

public static class ExecutionEndpoints
{
    private static readonly string[] Statuses = ["pending", "delivering", "retrying", "success", "failed", "missed", "cancelled"];

    public static void MapExecutionEndpoints(this RouteGroupBuilder authed)
    {
        authed.MapGet("/executions", ListAsync);
        authed.MapGet("/executions/{id}", GetAsync);
        authed.MapGet("/executions/{id}/attempts", AttemptsAsync);
    }

    private static async Task<IResult> ListAsync(HttpContext context, IQuerySession session)
    {
        var caller = Caller.From(context);
        var (limit, offset) = Paging.Read(context.Request, defaultLimit: 20);
        var query = session.Query<ExecutionView>().Where(e => e.AccountId == caller.AccountId);

        var cueId = context.Request.Query["cue_id"].ToString();
        if (cueId.Length > 0)
        {
            query = query.Where(e => e.CueId == cueId);
        }

        var status = context.Request.Query["status"].ToString();
        if (status.Length > 0)
        {
            if (!Statuses.Contains(status))
            {
                throw ApiError.BadRequest("invalid_filter", $"Unknown status '{status}'.");
            }

            query = query.Where(e => e.Status == status);
        }

        var total = await query.CountAsync(context.RequestAborted);
        var page = await query.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Skip(offset).Take(limit).ToListAsync(context.RequestAborted);
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

    public static async Task<ExecutionView> LoadOwnedAsync(string id, HttpContext context, IQuerySession session)
    {
        var caller = Caller.From(context);
        // Ids are lowercase hyphenated UUIDs; anything else is simply not found (never 400).
        var execution = Guid.TryParseExact(id, "D", out var parsed) && parsed.ToString("D") == id
            ? await session.LoadAsync<ExecutionView>(id, context.RequestAborted)
            : null;
        if (execution is null || execution.AccountId != caller.AccountId)
        {
            throw ApiError.NotFound("execution_not_found", $"No execution with id {id}.");
        }

        return execution;
    }
}
