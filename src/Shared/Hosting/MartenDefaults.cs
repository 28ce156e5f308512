using JasperFx.Events;
using Marten;
using Npgsql;
using Weasel.Core;

namespace Cue.Hosting;

/// <summary>Store settings every service must agree on to read the same tables and documents.</summary>
internal static class MartenDefaults
{
    public const string Schema = "cue";

    /// <summary>The store on the service's one data source, so Marten's sessions and the service's own SQL share one bounded pool.</summary>
    public static void ApplyCueDefaults(this StoreOptions options, NpgsqlDataSource dataSource)
    {
        options.Connection(dataSource);
        options.DatabaseSchemaName = Schema;
        options.Events.DatabaseSchemaName = Schema;
        // Cue ids are strings (cue_…); accounts and executions use their UUID text.
        options.Events.StreamIdentity = StreamIdentity.AsString;
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
    }
}
