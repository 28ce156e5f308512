using Cue.Api.Executions;
using Marten;
using Npgsql;

namespace Cue.Api.Cues;

/// <summary>
/// A cue's counters (§5.2): <c>run_count</c> (executions that finished delivery, any trigger),
/// <c>fired_count</c> (executions the schedule created) and <c>last_run</c> (when the latest one finished
/// delivery). Counted from the execution views when read rather than kept on the cue, so many
/// executions finishing at once never contend for the cue's stream, and a rebuild cannot skew them.
/// </summary>
public sealed record CueStats(int RunCount, int FiredCount, DateTimeOffset? LastRun)
{
    public static readonly CueStats None = new(0, 0, null);

    public static async Task<IReadOnlyDictionary<string, CueStats>> LoadAsync(IDocumentStore store, NpgsqlDataSource dataSource, IReadOnlyCollection<string> cueIds, CancellationToken cancellationToken)
    {
        var stats = new Dictionary<string, CueStats>(StringComparer.Ordinal);
        if (cueIds.Count == 0)
        {
            return stats;
        }

        var table = store.Options.FindOrResolveDocumentType(typeof(ExecutionView)).TableName.QualifiedName;
        await using var command = dataSource.CreateCommand(
            $"""
            select cue_id,
                   count(*) filter (where status in ('success', 'failed')),
                   count(*) filter (where triggered_by = 'scheduled'),
                   max(finished_at) filter (where status in ('success', 'failed'))
            from {table} where cue_id = any($1) group by cue_id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = cueIds.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            stats[reader.GetString(0)] = new CueStats(
                (int)reader.GetInt64(1),
                (int)reader.GetInt64(2),
                reader.IsDBNull(3) ? null : new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero));
        }

        return stats;
    }

    public static async Task<CueStats> LoadAsync(IDocumentStore store, NpgsqlDataSource dataSource, string cueId, CancellationToken cancellationToken) =>
        (await LoadAsync(store, dataSource, [cueId], cancellationToken)).GetValueOrDefault(cueId, None);
}
