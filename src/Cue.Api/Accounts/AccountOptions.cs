using System.ComponentModel.DataAnnotations;

namespace Cue.Api.Accounts;

/// <summary>The operator's per-account settings (§4 quotas), bound to the <c>Accounts</c> section.</summary>
public sealed class AccountOptions
{
    public const string Section = "Accounts";

    /// <summary>When false, <c>POST /v1/auth/register</c> answers 403 <c>registration_disabled</c>.</summary>
    public bool RegistrationEnabled { get; set; } = true;

    /// <summary>Active + paused cues an account may hold.</summary>
    [Range(1, int.MaxValue)]
    public int ActiveCueLimit { get; set; } = 1_000;

    /// <summary>Executions an account may create per UTC calendar month, any trigger.</summary>
    [Range(1, int.MaxValue)]
    public int MonthlyExecutionLimit { get; set; } = 1_000_000;

    /// <summary>Requests per API key per sliding window (§4).</summary>
    [Range(1, 1_000_000)]
    public int RateLimitPerMinute { get; set; } = 300;
}

/// <summary>Limits for requests without a valid API key, bound to the <c>RateLimits</c> section.</summary>
public sealed class RateLimitsOptions
{
    public const string Section = "RateLimits";

    /// <summary>Requests per client IP per window when the request carries no valid key.</summary>
    [Range(1, 1_000_000)]
    public int AnonymousPerMinute { get; set; } = 60;

    /// <summary><c>POST /v1/auth/register</c> per client IP per window, on top of <see cref="AnonymousPerMinute"/>.</summary>
    [Range(1, 1_000_000)]
    public int RegisterPerMinute { get; set; } = 10;

    /// <summary>
    /// The sliding window: 60 s by contract. Time is an input: tests shrink it to see a window slide in
    /// seconds through the same code path. Whole seconds, since each second is one segment of the window.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
