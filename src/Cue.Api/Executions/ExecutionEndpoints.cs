using Cue.Api.Accounts;
using Cue.Api.Hosting;
using Cue.Encryption;
using Marten;
using Npgsql;

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

    private static async Task<IResult> ListAsync(HttpContext context, IQuerySession session, NpgsqlDataSource dataSource, KeyRing keyRing)
    {
        var caller = Caller.From(context);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        var (limit, offset) = Paging.Read(context.Request, defaultLimit: 20);
        var filter = ExecutionFilter.Read(context.Request.Query);
        return Results.Json(await ListResponseAsync(caller, cipher, filter, limit, offset, session, dataSource, context.RequestAborted), Json.Options);
    }

    /// <summary><c>GET /v1/executions</c>'s body for one page of the filtered audit trail (the dashboard renders the same).</summary>
    internal static async Task<object> ListResponseAsync(Caller caller, AccountCipher cipher, ExecutionFilter filter, int limit, int offset, IQuerySession session, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var query = filter.Apply(session.Query<ExecutionView>().Where(e => e.AccountId == caller.AccountId));
        // Narrowed by cue and status at most, the total is a maintained count; other filters count their matches.
        var total = filter.CountedByTotals
            ? await ExecutionTotals.ReadAsync(dataSource, caller.AccountId, filter.CueId, filter.Statuses, cancellationToken)
            : await query.CountAsync(cancellationToken);
        // The page's ids first, then only those documents: a deep offset then walks the (account_id, created_at, id)
        // index alone, index-only, instead of reading every skipped document (0.55 s → 0.08 s at offset 500,000).
        var ids = filter.Since is not null || filter.Until is not null
            ? await WindowPageIdsAsync(query, limit, offset, dataSource, cancellationToken)
            : await query.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Skip(offset).Take(limit)
                .Select(e => e.Id).ToListAsync(cancellationToken);
        var found = (await session.LoadManyAsync<ExecutionView>(cancellationToken, ids)).ToDictionary(e => e.Id, StringComparer.Ordinal);
        var page = ids.Where(found.ContainsKey).Select(id => found[id]).ToList();
        return new
        {
            executions = page.Select(e => e.ToResponse(cipher)),
            total,
            limit,
            offset,
            has_more = offset + page.Count < total,
        };
    }

    /// <summary>
    /// A page of a <c>since</c>/<c>until</c> window: the window's rows first (an index-only range scan of
    /// (account_id, scheduled_for) including created_at and id), then the newest of them. Asked directly,
    /// PostgreSQL walked created_at backwards across every account hoping to meet the window soon, which
    /// for a day a day ago meant skipping 164,000 rows (135 ms at 1,000,000; this way 15 ms). The filter's
    /// conditions are Marten's own SQL for the query, with the window's columns added to what it selects.
    /// </summary>
    private static async Task<List<string>> WindowPageIdsAsync(IQueryable<ExecutionView> query, int limit, int offset, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        const string Selected = "select d.id from ";
        await using var command = query.Select(e => e.Id).ToCommand();
        if (!command.CommandText.StartsWith(Selected, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Marten's query no longer starts with '{Selected}': {command.CommandText}");
        }

        command.CommandText = FormattableString.Invariant($"""
            with w as materialized (select d.id, d.created_at from {command.CommandText[Selected.Length..].TrimEnd().TrimEnd(';')})
            select id from w order by created_at desc, id desc offset {offset} limit {limit}
            """);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        command.Connection = connection;
        var ids = new List<string>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, IQuerySession session, KeyRing keyRing)
    {
        var execution = await LoadOwnedAsync(id, context, session);
        return Results.Json(execution.ToResponse(await keyRing.ForAccountAsync(execution.AccountId, context.RequestAborted)), Json.Options);
    }

    private static async Task<IResult> AttemptsAsync(string id, HttpContext context, IQuerySession session, KeyRing keyRing)
    {
        var execution = await LoadOwnedAsync(id, context, session);
        var cipher = await keyRing.ForAccountAsync(execution.AccountId, context.RequestAborted);
        return Results.Json(AttemptsResponse(execution, cipher), Json.Options);
    }

    /// <summary><c>GET /v1/executions/{id}/attempts</c>'s body (the dashboard renders the same).</summary>
    internal static object AttemptsResponse(ExecutionView execution, AccountCipher cipher) => new
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
            response_body = cipher.Open(SealedFields.ResponseBody, a.ResponseBody),
            remote_address = a.RemoteAddress,
            retry_after_seconds = a.RetryAfterSeconds,
        }),
    };

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
