namespace Cue.Api.Hosting;

/// <summary>Destructive calls need <c>X-Confirm-Destructive: true</c> (§1), else 400 <c>confirmation_required</c>.</summary>
public static class Confirmation
{
    public static void Require(HttpRequest request)
    {
        if (!string.Equals(request.Headers["X-Confirm-Destructive"].ToString().Trim(), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiError.BadRequest("confirmation_required", "This call is destructive; send 'X-Confirm-Destructive: true' to confirm.");
        }
    }
}
