using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Cue.Scheduler.DueIndex;

/// <summary>
/// The due index: one row per active cue (its next occurrence) and one per pending retry. It is a
/// projection of the event log (see <see cref="DueIndexProjection"/>), claimed in batches by the
/// dispatch job with <c>FOR UPDATE SKIP LOCKED</c> and a lease, and advanced in batches.
/// </summary>
public static class DueIndexTable
{
    public const string Schema = "cue";
    public const string Name = "cue.due_index";
    public const string HeartbeatName = "cue.scheduler_heartbeat";

    /// <summary>Row kinds.</summary>
    public const short Occurrence = 0;
    public const short Retry = 1;

    public static string OccurrenceKey(string cueId) => "o:" + cueId;
    public static string RetryKey(Guid executionId) => "r:" + executionId.ToString("D");

    public static Table Definition()
    {
        var table = new Table(new PostgresqlObjectName(Schema, "due_index", SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("id").AsPrimaryKey();
        table.AddColumn<string>("cue_id").NotNull();
        table.AddColumn("kind", "smallint").NotNull();
        table.AddColumn("due_at", "timestamptz").NotNull();
        table.AddColumn("execution_id", "uuid");
        table.AddColumn("attempt", "integer").NotNull().DefaultValueByExpression("1");
        table.AddColumn("triggered_by", "text").NotNull().DefaultValueByString("scheduled");
        table.AddColumn("scheduled_for", "timestamptz");
        table.AddColumn("schedule_type", "text");
        table.AddColumn("cron", "text");
        table.AddColumn("timezone", "text");
        table.AddColumn("catch_up", "text");
        table.AddColumn("cue_version", "bigint").NotNull().DefaultValueByExpression("0");
        table.AddColumn("lease_until", "timestamptz");
        // The claim scans by due time; bulk rows sharing one due time are the planner's trap (design.md),
        // so the claim orders by (due_at, id), which this index serves directly.
        table.Indexes.Add(new IndexDefinition("ix_due_index_due_at_id") { Columns = ["due_at", "id"] });
        return table;
    }

    /// <summary>When each scheduler instance last ran the dispatch job (the API's <c>/health</c> reads it).</summary>
    public static Table HeartbeatDefinition()
    {
        var table = new Table(new PostgresqlObjectName(Schema, "scheduler_heartbeat", SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("instance").AsPrimaryKey();
        table.AddColumn("ticked_at", "timestamptz").NotNull();
        return table;
    }
}
