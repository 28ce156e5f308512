using Cue.Api.Cues;
using Cue.Api.Executions;
using Marten;
using Npgsql;

namespace Cue.Api.Accounts;

/// <summary>
/// The counts behind an account's quotas (§4) and its <c>/v1/auth/me</c> and <c>/v1/usage</c> figures,
/// in one place so the limit checks and the reports count the same things.
/// </summary>
public static class AccountUsage
{
    /// <summary>The first instant of <paramref name="now"/>'s UTC calendar month: the billing period's start.</summary>
    public static DateTimeOffset MonthStart(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>The first instant of the next UTC calendar month: the billing period's (exclusive) end.</summary>
    public static DateTimeOffset MonthEnd(DateTimeOffset now) => MonthStart(now).AddMonths(1);

    /// <summary>Cues with status <c>active</c>.</summary>
    public static Task<int> ActiveCuesAsync(NpgsqlDataSource dataSource, Guid accountId, CancellationToken cancellationToken) =>
        CueTotals.ReadAsync(dataSource, accountId, ["active"], cancellationToken);

    /// <summary>Cues that count against <c>active_cue_limit</c>: active + paused.</summary>
    public static Task<int> UsedCuesAsync(NpgsqlDataSource dataSource, Guid accountId, CancellationToken cancellationToken) =>
        CueTotals.ReadAsync(dataSource, accountId, ["active", "paused"], cancellationToken);

    /// <summary>Executions created (any trigger) since the start of <paramref name="now"/>'s UTC month.</summary>
    public static Task<int> ExecutionsThisMonthAsync(IQuerySession session, Guid accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = MonthStart(now);
        return session.Query<ExecutionView>().CountAsync(e => e.AccountId == accountId && e.CreatedAt >= start, cancellationToken);
    }

    /// <summary>Outcomes reported on executions created this UTC month, and how many said success.</summary>
    public static async Task<OutcomeCounts> OutcomesThisMonthAsync(IQuerySession session, Guid accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var start = MonthStart(now);
        var reported = session.Query<ExecutionView>().Where(e => e.AccountId == accountId && e.CreatedAt >= start && e.OutcomeState != null);
        var total = await reported.CountAsync(cancellationToken);
        var succeeded = await reported.CountAsync(e => e.Outcome!.Success, cancellationToken);
        return new OutcomeCounts(total, succeeded, total - succeeded);
    }
}

public readonly record struct OutcomeCounts(int Reported, int Succeeded, int Failed);
