using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;

namespace Cue.Api.Hosting;

/// <summary>
/// Gives every response with status ≥ 400 the contract's JSON envelope: errors thrown by endpoints,
/// errors the framework raises outside them (unknown route, wrong method, oversized body), and
/// unexpected failures — which answer 500 with the request id and nothing internal.
/// </summary>
public sealed class ErrorEnvelopeMiddleware(RequestDelegate next, ILogger<ErrorEnvelopeMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (ApiError error) when (!context.Response.HasStarted)
        {
            await WriteAsync(context, error.Status, error.Code, error.Message, error.Details);
            return;
        }
        catch (BadHttpRequestException bad) when (!context.Response.HasStarted)
        {
            var (code, message) = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ("request_too_large", "The request body is over 1,048,576 bytes.")
                : ("invalid_json", "The request could not be read.");
            await WriteAsync(context, bad.StatusCode, code, message, null);
            return;
        }
        catch (Exception ex) when (!context.Response.HasStarted && IsDatabaseDown(ex))
        {
            logger.LogError(ex, "A dependency is unavailable");
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "service_unavailable", "A dependency is unavailable; try again shortly.", null);
            return;
        }
        catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(ex, "Unhandled error");
            await WriteAsync(context, StatusCodes.Status500InternalServerError, "internal_error",
                $"An internal error occurred (request id {context.TraceIdentifier}).", null);
            return;
        }

        if (!context.Response.HasStarted && context.Response.StatusCode >= 400 && context.Response.ContentLength is null && context.Response.ContentType is null)
        {
            var status = context.Response.StatusCode;
            var (code, message) = status switch
            {
                404 => ("not_found", "No such route."),
                405 => ("method_not_allowed", "The route exists but not for this method."),
                413 => ("request_too_large", "The request body is over 1,048,576 bytes."),
                415 => ("unsupported_media_type", "The request body must be JSON (Content-Type: application/json)."),
                401 => ("invalid_api_key", "A valid API key is required."),
                400 => ("invalid_json", "The request could not be read."),
                429 => ("rate_limit_exceeded", "Too many requests; slow down."),
                501 => ("not_implemented", "This route is reserved and not built yet."),
                503 => ("service_unavailable", "A dependency is unavailable; try again shortly."),
                >= 500 => ("internal_error", $"An internal error occurred (request id {context.TraceIdentifier})."),
                _ => ("error", "The request failed."),
            };
            await WriteAsync(context, status, code, message, null);
        }
    }

    private static bool IsDatabaseDown(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    // Headers that describe the error rather than the aborted work, so they survive the reset below:
    // routing's Allow on a 405 (§3), and the rate limiter's headers, which every response carries (§4).
    private static readonly string[] KeptHeaders = ["Allow", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"];

    public static Task WriteAsync(HttpContext context, int status, string code, string message, IReadOnlyList<FieldError>? details)
    {
        var kept = KeptHeaders
            .Where(name => context.Response.Headers.ContainsKey(name))
            .Select(name => (name, value: context.Response.Headers[name]))
            .ToList();
        context.Response.Clear();
        foreach (var (name, value) in kept)
        {
            context.Response.Headers[name] = value;
        }

        context.Response.Headers["X-Request-Id"] = context.TraceIdentifier;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        object error = details is null
            ? new { code, message, status }
            : new { code, message, status, details = details.Select(d => new { field = d.Field, message = d.Message }) };
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { error }, Json.Options), context.RequestAborted);
    }
}

/// <summary>Echoes a well-formed caller <c>X-Request-Id</c> or issues a new one, on every response.</summary>
public sealed class RequestIdMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var given = context.Request.Headers["X-Request-Id"].ToString();
        var id = given.Length is >= 1 and <= 128 && given.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-')
            ? given
            : Guid.NewGuid().ToString("D");
        context.TraceIdentifier = id;
        context.Response.Headers["X-Request-Id"] = id;
        return next(context);
    }
}
