using Cue.Api.Hosting;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cue.Api.Accounts;

/// <summary>The operator's per-account quotas (§4), checked where a call would pass them (403).</summary>
public sealed class Quotas(IOptions<AccountOptions> options, NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>One more active or paused cue must stay within <c>active_cue_limit</c>.</summary>
    public async Task EnsureCueAllowedAsync(Caller caller, CancellationToken cancellationToken)
    {
        var limit = options.Value.ActiveCueLimit;
        if (await AccountUsage.UsedCuesAsync(dataSource, caller.AccountId, cancellationToken) >= limit)
        {
            throw new ApiError(StatusCodes.Status403Forbidden, "cue_limit_exceeded", $"This account already has {limit} active or paused cues, its limit.");
        }
    }

    /// <summary>One more execution this month must stay within <c>monthly_execution_limit</c>.</summary>
    public async Task EnsureExecutionAllowedAsync(IQuerySession session, Caller caller, CancellationToken cancellationToken)
    {
        var limit = options.Value.MonthlyExecutionLimit;
        if (await AccountUsage.ExecutionsThisMonthAsync(session, caller.AccountId, time.GetUtcNow(), cancellationToken) >= limit)
        {
            throw new ApiError(StatusCodes.Status403Forbidden, "execution_limit_exceeded", $"This account reached its limit of {limit} executions this month.");
        }
    }
}
