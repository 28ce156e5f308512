using Cue.Api.Hosting;
using Npgsql;

namespace Cue.Api.Cues;

/// <summary>
/// Each account's cues by status, kept by PostgreSQL (<see cref="GroupTotals"/>). Every create checks the
/// cue limit against the active and paused ones, and every list page answers its <c>total</c>: counted
/// from the cue views, that cost grew with the account's cues (0.6 ms a create at 5,000 active cues, the
/// largest PostgreSQL cost of a create).
/// </summary>
internal static class CueTotals
{
    public static readonly GroupTotals Groups = new("cue", "cue.mt_doc_cueview", ["status"], [["status"]]);

    /// <summary>The account's cues in the given statuses (any, when null), exactly as <c>count(*)</c> would give.</summary>
    public static Task<int> ReadAsync(NpgsqlDataSource dataSource, Guid accountId, string[]? statuses, CancellationToken cancellationToken) =>
        Groups.SumAsync(dataSource, accountId, [statuses], cancellationToken);
}
