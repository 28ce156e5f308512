using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cue.Api.Accounts;
using Cue.Api.Executions;
using Cue.Api.Hosting;
using Cue.Contracts.Events;
using Cue.Encryption;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace Cue.Api.Cues;

public static partial class CueEndpoints
{
    private static readonly string[] Statuses = ["active", "paused", "completed", "failed"];

    [GeneratedRegex("^cue_[a-z0-9]{12}$")]
    private static partial Regex CueIdPattern();

    public static void MapCueEndpoints(this RouteGroupBuilder authed)
    {
        authed.MapPost("/cues", CreateAsync);
        authed.MapGet("/cues", ListAsync);
        authed.MapPost("/cues/bulk-delete", BulkDeleteAsync);
        authed.MapGet("/cues/{id}", GetAsync);
        authed.MapPatch("/cues/{id}", UpdateAsync);
        authed.MapDelete("/cues/{id}", DeleteAsync);
    }

    /// <summary>The caller's cue, or 404 <c>cue_not_found</c> for a malformed, unknown or other account's id.</summary>
    public static async Task<CueView> LoadOwnedAsync(string id, Caller caller, IQuerySession session, CancellationToken cancellationToken)
    {
        var view = CueIdPattern().IsMatch(id) ? await session.LoadAsync<CueView>(id, cancellationToken) : null;
        return view is not null && view.AccountId == caller.AccountId
            ? view
            : throw ApiError.NotFound("cue_not_found", $"No cue with id {id}.");
    }

    private static async Task<IResult> CreateAsync(HttpContext context, IDocumentSession session, KeyRing keyRing, Quotas quotas, TimeProvider time)
    {
        var caller = Caller.From(context);
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        var created = await CueDraft.ParseAsync(body, caller, Secrets.NewCueId(), time.GetUtcNow(), cipher, context.RequestAborted);

        try
        {
            await quotas.EnsureCueAllowedAsync(caller, context.RequestAborted);
        }
        catch (ApiError error) when (error.Code == "cue_limit_exceeded")
        {
            // The contract's order is the duplicate name (409) before the cue limit (403). Below the limit the
            // unique index reports a duplicate at save, so the name is only looked up here.
            if (await session.Query<CueView>().AnyAsync(c => c.AccountId == caller.AccountId && c.Name == created.Name, context.RequestAborted))
            {
                throw DuplicateName(created.Name);
            }

            throw;
        }

        session.Events.StartStream<CueView>(created.CueId, created);
        try
        {
            await session.SaveChangesAsync(context.RequestAborted);
        }
        catch (Exception ex) when (UniqueViolation.Of(ex, "ux_cue_account_name"))
        {
            throw DuplicateName(created.Name);
        }

        var view = CueView.Create(created);
        context.Response.Headers.Location = $"/v1/cues/{view.Id}";
        return Results.Json(view.ToResponse(created.CreatedAt, CueStats.None, cipher), Json.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, IQuerySession session, NpgsqlDataSource dataSource, KeyRing keyRing, TimeProvider time)
    {
        var caller = Caller.From(context);
        var view = await LoadOwnedAsync(id, caller, session, context.RequestAborted);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        var limit = Paging.ReadOne(context.Request, "execution_limit", 10, 1, 100);
        var offset = Paging.ReadOne(context.Request, "execution_offset", 0, 0, int.MaxValue);
        return Results.Json(await DetailResponseAsync(view, caller, cipher, limit, offset, session, dataSource, time.GetUtcNow(), context.RequestAborted), Json.Options);
    }

    /// <summary><c>GET /v1/cues/{id}</c>'s body: the cue with one page of its executions (the dashboard renders the same).</summary>
    internal static async Task<JsonObject> DetailResponseAsync(CueView view, Caller caller, AccountCipher cipher, int limit, int offset, IQuerySession session, NpgsqlDataSource dataSource, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var executions = session.Query<ExecutionView>().Where(e => e.AccountId == caller.AccountId && e.CueId == view.Id);
        var total = await ExecutionTotals.ReadAsync(dataSource, caller.AccountId, view.Id, statuses: null, cancellationToken);
        var page = await executions.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Skip(offset).Take(limit).ToListAsync(cancellationToken);
        var stats = await CueStats.LoadAsync(session.DocumentStore, dataSource, view.Id, cancellationToken);

        var response = JsonSerializer.SerializeToNode(view.ToResponse(now, stats, cipher), Json.Options)!.AsObject();
        response["executions"] = JsonSerializer.SerializeToNode(page.Select(e => e.ToResponse(cipher)), Json.Options);
        response["execution_total"] = total;
        response["execution_limit"] = limit;
        response["execution_offset"] = offset;
        return response;
    }

    private static async Task<IResult> ListAsync(HttpContext context, IQuerySession session, NpgsqlDataSource dataSource, KeyRing keyRing, TimeProvider time)
    {
        var caller = Caller.From(context);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        var (limit, offset) = Paging.Read(context.Request, defaultLimit: 50);
        var status = context.Request.Query.TryGetValue("status", out var statusValues) ? statusValues.ToString() : null;
        return Results.Json(await ListResponseAsync(caller, cipher, status, limit, offset, session, dataSource, time.GetUtcNow(), context.RequestAborted), Json.Options);
    }

    /// <summary><c>GET /v1/cues</c>'s body for one page, optionally of one status (the dashboard renders the same).</summary>
    internal static async Task<object> ListResponseAsync(Caller caller, AccountCipher cipher, string? status, int limit, int offset, IQuerySession session, NpgsqlDataSource dataSource, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var query = session.Query<CueView>().Where(c => c.AccountId == caller.AccountId);
        if (status is not null)
        {
            if (!Statuses.Contains(status))
            {
                throw ApiError.BadRequest("invalid_filter", $"Unknown status '{status}'; use one of {string.Join(", ", Statuses)}.");
            }

            query = query.Where(c => c.Status == status);
        }

        var total = await CueTotals.ReadAsync(dataSource, caller.AccountId, status is null ? null : [status], cancellationToken);
        var page = await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Skip(offset).Take(limit).ToListAsync(cancellationToken);
        var stats = await CueStats.LoadAsync(session.DocumentStore, dataSource, [.. page.Select(c => c.Id)], cancellationToken);
        return new
        {
            cues = page.Select(c => c.ToResponse(now, stats.GetValueOrDefault(c.Id, CueStats.None), cipher)),
            total,
            limit,
            offset,
            has_more = offset + page.Count < total,
        };
    }

    private static async Task<IResult> UpdateAsync(string id, HttpContext context, IDocumentStore store, NpgsqlDataSource dataSource, KeyRing keyRing, Quotas quotas, TimeProvider time)
    {
        var caller = Caller.From(context);
        var cipher = await keyRing.ForAccountAsync(caller.AccountId, context.RequestAborted);
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request, optional: true);
        var view = await UpdateOwnedAsync(id, body, caller, cipher, store, quotas, time, context.RequestAborted);
        var stats = await CueStats.LoadAsync(store, dataSource, view.Id, context.RequestAborted);
        return Results.Json(view.ToResponse(time.GetUtcNow(), stats, cipher), Json.Options);
    }

    /// <summary>
    /// Applies a <c>PATCH /v1/cues/{id}</c> body to the caller's cue and returns the cue as it now is. The
    /// dashboard's pause and resume go through here with <c>{"status": …}</c>, so they decide exactly as the API does.
    /// </summary>
    internal static async Task<CueView> UpdateOwnedAsync(string id, JsonElement body, Caller caller, AccountCipher cipher, IDocumentStore store, Quotas quotas, TimeProvider time, CancellationToken cancellationToken)
    {
        // A concurrent change of the same cue fails the expected-version append; decide again on the new state.
        for (var round = 1; ; round++)
        {
            await using var session = store.LightweightSession();
            var current = await LoadOwnedAsync(id, caller, session, cancellationToken);
            var update = await CuePatch.DecideAsync(body, current, caller, time.GetUtcNow(), cipher, cancellationToken);
            var view = current;
            if (update is not null)
            {
                if (update.Status == "active" && current.Status is "completed" or "failed")
                {
                    // Re-arming a finished once cue makes it count against the cue limit again.
                    await quotas.EnsureCueAllowedAsync(caller, cancellationToken);
                }

                session.Events.Append(current.Id, current.Version + 1, update);
                try
                {
                    await session.SaveChangesAsync(cancellationToken);
                }
                catch (Exception ex) when (UniqueViolation.Of(ex, "ux_cue_account_name"))
                {
                    throw DuplicateName(update.Name);
                }
                catch (Exception ex) when (IsVersionConflict(ex) && round < MaxWriteRounds)
                {
                    await ConflictPauseAsync(round, cancellationToken);
                    continue;
                }

                view.Apply(update);
            }

            return view;
        }
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, IDocumentStore store, TimeProvider time)
    {
        var caller = Caller.From(context);
        await DeleteOwnedAsync(id, caller, store, time, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> BulkDeleteAsync(HttpContext context, IDocumentStore store, TimeProvider time)
    {
        var caller = Caller.From(context);
        Confirmation.Require(context.Request);
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request);
        var fields = new JsonFields(body);
        var ids = fields.Raw("ids");
        fields.RejectUnknown();
        if (ids is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() is < 1 or > 100)
        {
            throw ApiError.Validation("ids", "Must be an array of 1–100 cue ids.");
        }

        var given = new List<string>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            given.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw ApiError.Validation($"ids[{index}]", "Must be a string."));
            index++;
        }

        var deleted = new List<string>();
        var skipped = new List<string>();
        foreach (var id in given.Distinct(StringComparer.Ordinal))
        {
            try
            {
                await DeleteOwnedAsync(id, caller, store, time, context.RequestAborted);
                deleted.Add(id);
            }
            catch (ApiError error) when (error.Code == "cue_not_found")
            {
                skipped.Add(id);
            }
        }

        return Results.Json(new { deleted, skipped }, Json.Options);
    }

    /// <summary>
    /// Deletes a cue: <c>CueDeleted</c> on its stream (the views and the due index drop it) and
    /// <c>ExecutionCancelled</c> on each of its pending or retrying executions, in one transaction.
    /// </summary>
    internal static async Task DeleteOwnedAsync(string id, Caller caller, IDocumentStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        for (var round = 1; ; round++)
        {
            await using var session = store.LightweightSession();
            var cue = await LoadOwnedAsync(id, caller, session, cancellationToken);
            var now = time.GetUtcNow();
            var waiting = await session.Query<ExecutionView>()
                .Where(e => e.AccountId == caller.AccountId && e.CueId == cue.Id && (e.Status == "pending" || e.Status == "retrying"))
                .ToListAsync(cancellationToken);

            session.Events.Append(cue.Id, cue.Version + 1, new CueDeleted(cue.Id, cue.AccountId, now));
            foreach (var execution in waiting)
            {
                var state = await session.Events.FetchStreamStateAsync(execution.Id, cancellationToken);
                if (state is not null)
                {
                    session.Events.Append(execution.Id, state.Version + 1, new ExecutionCancelled(Guid.Parse(execution.Id), cue.Id, now));
                }
            }

            try
            {
                await session.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (Exception ex) when (IsVersionConflict(ex) && round < MaxWriteRounds)
            {
                await ConflictPauseAsync(round, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Writers of one cue that lost the expected-version race decide again. Immediate retries in step collided
    /// again: under load (torture, a burst of PATCHes of the same cues) five rounds ran out and answered 500.
    /// </summary>
    private const int MaxWriteRounds = 10;

    /// <summary>A short random pause, growing with the round, so writers that collided do not collide again.</summary>
    private static Task ConflictPauseAsync(int round, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * round)), cancellationToken);

    public static bool IsVersionConflict(Exception ex) =>
        ex is EventStreamUnexpectedMaxEventIdException or JasperFx.ConcurrencyException || ex.InnerException is EventStreamUnexpectedMaxEventIdException;

    private static ApiError DuplicateName(string name) =>
        ApiError.Conflict("duplicate_cue_name", $"A cue named '{name}' already exists in this account.");
}
