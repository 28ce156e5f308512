using Cue.Api.Hosting;
using Microsoft.AspNetCore.RateLimiting;

namespace Cue.Api.Accounts;

/// <summary>The operator's account settings and the §4 rate limits, wired into the API host.</summary>
public static class AccountHosting
{
    public static WebApplicationBuilder AddCueAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<RateLimitsOptions>().BindConfiguration(RateLimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CueRateLimiter>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<CueRateLimiter>((options, limiter) =>
        {
            options.GlobalLimiter = limiter;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (rejected, _) => new ValueTask(ErrorEnvelopeMiddleware.WriteAsync(
                rejected.HttpContext, StatusCodes.Status429TooManyRequests, "rate_limit_exceeded",
                "Too many requests; retry after the number of seconds in Retry-After.", null));
        });
        return builder;
    }

    /// <summary>Resolves the key (so the limiter partitions on it), then limits. Goes after the error envelope.</summary>
    public static WebApplication UseCueRateLimits(this WebApplication app)
    {
        app.UseMiddleware<RateLimitHeaders>();
        app.UseRateLimiter();
        return app;
    }
}
