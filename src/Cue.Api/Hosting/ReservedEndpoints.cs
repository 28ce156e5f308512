namespace Cue.Api.Hosting;

/// <summary>
/// The worker-transport routes that contract §5 reserves ("Later"). They are mapped now, behind the API
/// key like every <c>/v1</c> route, so clients that probe them get 501 <c>not_implemented</c> instead of a
/// 404 that would read as "wrong server", and so the paths cannot be taken by something else meanwhile.
/// </summary>
public static class ReservedEndpoints
{
    public static void MapReservedEndpoints(this RouteGroupBuilder authed)
    {
        // Literal segments outrank parameters in routing, so /executions/claimable is never read as an id.
        authed.MapGet("/executions/claimable", NotBuilt);
        authed.MapPost("/executions/claim", NotBuilt);
        authed.MapPost("/executions/{id}/claim", NotBuiltFor);
        authed.MapPost("/executions/{id}/heartbeat", NotBuiltFor);
        authed.MapPost("/worker/heartbeat", NotBuilt);
        authed.MapGet("/workers", NotBuilt);
        authed.MapDelete("/workers/{id}", NotBuiltFor);
    }

    private static IResult NotBuilt() =>
        throw new ApiError(StatusCodes.Status501NotImplemented, "not_implemented", "The worker transport is reserved and not built yet.");

    // Declares the route's id so the OpenAPI document shows the path parameter.
    private static IResult NotBuiltFor(string id) => NotBuilt();
}
