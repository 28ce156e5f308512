namespace Cue.Api.Hosting;

/// <summary>
/// The §1/§4 body rules that hold for every route, whether or not its endpoint reads the body.
/// <see cref="JsonBody"/> applies the same rules to the bytes it actually reads (a chunked body that
/// crosses the limit mid-stream); these catch what the headers alone already tell.
/// </summary>
public static class BodyRules
{
    /// <summary>A declared Content-Length over the limit is refused before anything reads a byte of it.</summary>
    public static IApplicationBuilder UseDeclaredBodyLimit(this IApplicationBuilder app) =>
        app.Use((context, next) => context.Request.ContentLength > JsonBody.MaxBytes
            ? throw new ApiError(StatusCodes.Status413PayloadTooLarge, "request_too_large", "The request body is over 1,048,576 bytes.")
            : next(context));

    /// <summary>
    /// 415 for a non-empty body that is not JSON, also on endpoints that take no body (a bodiless POST
    /// may declare any type, but must not carry something else). Runs after the key check, so a caller
    /// without a key learns nothing about the route's body.
    /// </summary>
    public static ValueTask<object?> RequireJsonBody(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (hasBody && !JsonBody.IsJson(request.ContentType))
        {
            throw new ApiError(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "The request body must be JSON (Content-Type: application/json).");
        }

        return next(context);
    }
}
