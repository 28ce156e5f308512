using JasperFx.Events;
using Marten;
using Weasel.Core;

namespace Cue.Hosting;

/// <summary>Store settings every service must agree on to read the same tables and documents.</summary>
internal static class MartenDefaults
{
    public const string Schema = "cue";

    public static void ApplyCueDefaults(this StoreOptions options, string connectionString)
    {
        options.Connection(connectionString);
        options.DatabaseSchemaName = Schema;
        options.Events.DatabaseSchemaName = Schema;
        // Cue ids are strings (cue_…); accounts and executions use their UUID text.
        options.Events.StreamIdentity = StreamIdentity.AsString;
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
    }
}
