using Marten;

namespace Cue.Api.Executions;

/// <summary>
/// The execution view's duplicated columns and the indexes shaped after the reads that must stay fast with
/// millions of rows: <c>GET /v1/executions</c> (one account, newest first, with <c>total</c>), a cue's
/// executions and its stats. The composites serve a page in index order and its count as an index-only
/// scan; each duplicated column keeps Marten's own single-column index for the other filters.
/// </summary>
internal static class ExecutionIndexes
{
    public static void Configure(StoreOptions options)
    {
        options.Schema.For<ExecutionView>().Duplicate(e => e.AccountId).Duplicate(e => e.CreatedAt).Duplicate(e => e.CueId)
            .Duplicate(e => e.Status).Duplicate(e => e.TriggeredBy).Duplicate(e => e.ScheduledFor).Duplicate(e => e.FinishedAt).Duplicate(e => e.OutcomeState);

        var mapping = options.Schema.For<ExecutionView>();
        // An account's list: scanned backwards this is exactly "order by created_at desc, id desc", and the
        // unfiltered total counts it alone. Without it the planner walked created_at across every account
        // and filtered (1.1 s for a page at offset 500,000 of 1,000,000).
        mapping.Index([e => e.AccountId, e => e.CreatedAt, e => e.Id], i => i.Name = "ix_execution_account_created");
        // A cue's executions in list order; the included columns let a status filter's count and the cue's
        // stats (counts by status and trigger, last finish) read the index without the documents.
        mapping.Index([e => e.CueId, e => e.CreatedAt, e => e.Id], i =>
        {
            i.Name = "ix_execution_cue_created";
            i.IncludeColumns = ["account_id", "status", "triggered_by", "finished_at"];
        });
        // since/until windows, always within one account; the included columns let a window's page be
        // chosen from the index alone (see ExecutionEndpoints.WindowPageIdsAsync).
        mapping.Index([e => e.AccountId, e => e.ScheduledFor], i =>
        {
            i.Name = "ix_execution_account_scheduled";
            i.IncludeColumns = ["created_at", "id"];
        });
    }
}
