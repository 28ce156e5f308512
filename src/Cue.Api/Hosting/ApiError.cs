namespace Cue.Api.Hosting;

/// <summary>One entry of a 422's <c>details</c>: a dotted field path and what is wrong with it.</summary>
public sealed record FieldError(string Field, string Message);

/// <summary>
/// An error the API answers with the contract's envelope (§3). Thrown by endpoint code and turned into
/// a response by <see cref="ErrorEnvelopeMiddleware"/>, so every error has one shape.
/// </summary>
public sealed class ApiError(int status, string code, string message, IReadOnlyList<FieldError>? details = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public IReadOnlyList<FieldError>? Details { get; } = details;

    public static ApiError Validation(string field, string message) =>
        new(StatusCodes.Status422UnprocessableEntity, "validation_error", $"{field}: {message}", [new FieldError(field, message)]);

    public static ApiError BadRequest(string code, string message) => new(StatusCodes.Status400BadRequest, code, message);

    public static ApiError NotFound(string code, string message) => new(StatusCodes.Status404NotFound, code, message);

    public static ApiError Conflict(string code, string message) => new(StatusCodes.Status409Conflict, code, message);

    public static ApiError Unauthorized(string code, string message) => new(StatusCodes.Status401Unauthorized, code, message);
}
