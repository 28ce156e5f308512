using Cue.Api.Hosting;
using Npgsql;

namespace Cue.Api.Executions;

/// <summary>
/// Execution counts kept by PostgreSQL (<see cref="GroupTotals"/>), so that a list's exact <c>total</c>
/// costs a few index lookups instead of counting every match: 30–60 ms for an account's million rows here,
/// 45–70 ms for one cue's 250,000. Counted per account, per account and status, and per cue and status.
/// </summary>
internal static class ExecutionTotals
{
    public static readonly GroupTotals Groups = new(
        "execution", "cue.mt_doc_executionview", ["cue_id", "status"], [[], ["status"], ["cue_id", "status"]]);

    /// <summary>
    /// The account's executions of one cue (or any, when <paramref name="cueId"/> is null) in the given
    /// statuses (or any, when null), exactly as <c>count(*)</c> over the matching rows would give.
    /// </summary>
    public static Task<int> ReadAsync(NpgsqlDataSource dataSource, Guid accountId, string? cueId, IReadOnlyList<string>? statuses, CancellationToken cancellationToken)
    {
        string[]? inStatuses = statuses is not null ? [.. statuses.Distinct(StringComparer.Ordinal)] : null;
        string[]?[] values = cueId is null
            ? [[GroupTotals.Any], inStatuses ?? [GroupTotals.Any]]
            // One cue in any status is the sum of its status groups (there is no "any status" group per cue).
            : [[cueId], inStatuses];
        return Groups.SumAsync(dataSource, accountId, values, cancellationToken);
    }
}
