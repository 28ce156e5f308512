using Cue.Encryption;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Cue.Api.Hosting;

/// <summary>The wrapped-key tables of <see cref="KeyTables"/>, created and migrated with the rest of the schema by the API.</summary>
internal static class KeyTablesSchema
{
    public static IEnumerable<Table> Definitions()
    {
        var accounts = new Table(new PostgresqlObjectName(KeyTables.Schema, "account_keys", SchemaUtils.IdentifierUsage.General));
        accounts.AddColumn("account_id", "uuid").AsPrimaryKey();
        accounts.AddColumn("wrapped", "bytea").NotNull();
        accounts.AddColumn("master_key_id", "text").NotNull();
        accounts.AddColumn("created_at", "timestamp with time zone").NotNull();
        yield return accounts;

        var lookups = new Table(new PostgresqlObjectName(KeyTables.Schema, "lookup_keys", SchemaUtils.IdentifierUsage.General));
        lookups.AddColumn("name", "text").AsPrimaryKey();
        lookups.AddColumn("wrapped", "bytea").NotNull();
        lookups.AddColumn("master_key_id", "text").NotNull();
        lookups.AddColumn("created_at", "timestamp with time zone").NotNull();
        yield return lookups;
    }
}
