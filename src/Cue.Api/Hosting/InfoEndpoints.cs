using Cue.Api.Cues;
using Cue.Delivery.Urls;
using Cue.Hosting;

namespace Cue.Api.Hosting;

/// <summary><c>GET /v1/info</c> (§5.4): what this server is and what it speaks. No key, never rate limited.</summary>
public static class InfoEndpoints
{
    private static readonly string[] DisabledPrimitives = ["worker_transport", "messaging"];

    public static void MapInfoEndpoints(this IEndpointRouteBuilder v1) =>
        v1.MapGet("/info", () => Results.Json(new
        {
            name = "cue",
            version = ServiceVersion.Current,
            api_version = "v1",
            compatible_with = "cueapi-v1",
            authorization_backend = "api_key",
            disabled_primitives = DisabledPrimitives,
            limits = new
            {
                max_request_bytes = JsonBody.MaxBytes,
                max_payload_bytes = CueDraft.MaxPayloadBytes,
                max_callback_url_length = CallbackUrlPolicy.MaxLength,
            },
        }, Json.Options));
}
