using Cue.Api.Accounts;
using Cue.Api.Hosting;
using Marten;

namespace Cue.Api.Cues;

public static class CueEndpoints
{
    public static void MapCueEndpoints(this RouteGroupBuilder authed)
    {
        authed.MapPost("/cues", CreateAsync);
        authed.MapGet("/cues", ListAsync);
        authed.MapGet("/cues/{id}", GetAsync);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, IDocumentSession session, TimeProvider time)
    {
        var caller = Caller.From(context);
        var (body, _) = await JsonBody.ReadObjectAsync(context.Request);
        var created = await CueDraft.ParseAsync(body, caller, Secrets.NewCueId(), time.GetUtcNow(), context.RequestAborted);

        session.Events.StartStream<CueView>(created.CueId, created);
        try
        {
            await session.SaveChangesAsync(context.RequestAborted);
        }
        catch (Exception ex) when (UniqueViolation.Of(ex, "ux_cue_account_name"))
        {
            throw ApiError.Conflict("duplicate_cue_name", $"A cue named '{created.Name}' already exists in this account.");
        }

        var view = CueView.Create(created);
        context.Response.Headers.Location = $"/v1/cues/{view.Id}";
        return Results.Json(view.ToResponse(created.CreatedAt), Json.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, IQuerySession session, TimeProvider time)
    {
        var caller = Caller.From(context);
        var view = await session.LoadAsync<CueView>(id, context.RequestAborted);
        if (view is null || view.AccountId != caller.AccountId)
        {
            throw ApiError.NotFound("cue_not_found", $"No cue with id {id}.");
        }

        return Results.Json(view.ToResponse(time.GetUtcNow()), Json.Options);
    }

    private static async Task<IResult> ListAsync(HttpContext context, IQuerySession session, TimeProvider time)
    {
        var caller = Caller.From(context);
        var (limit, offset) = Paging.Read(context.Request, defaultLimit: 50);
        var query = session.Query<CueView>().Where(c => c.AccountId == caller.AccountId);
        var total = await query.CountAsync(context.RequestAborted);
        var page = await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Skip(offset).Take(limit).ToListAsync(context.RequestAborted);
        return Results.Json(new
        {
            cues = page.Select(c => c.ToResponse(time.GetUtcNow())),
            total,
            limit,
            offset,
            has_more = offset + page.Count < total,
        }, Json.Options);
    }
}
