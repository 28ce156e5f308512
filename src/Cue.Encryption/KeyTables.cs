namespace Cue.Encryption;

/// <summary>
/// Where wrapped keys live: a schema of their own, apart from the events and documents, so a database role can
/// be kept from them and a dump shows at a glance that they are only ever stored wrapped.
/// </summary>
public static class KeyTables
{
    public const string Schema = "cue_keys";

    /// <summary>One data key per account: <c>(account_id uuid, wrapped bytea, master_key_id text, created_at timestamptz)</c>.</summary>
    public const string AccountKeys = "cue_keys.account_keys";

    /// <summary>Keys that belong to no account, by name: the e-mail blind index key (<c>email_index</c>).</summary>
    public const string LookupKeys = "cue_keys.lookup_keys";

    public const string EmailIndexKey = "email_index";

    internal static string AccountContext(Guid accountId) => "account|" + accountId.ToString("D");

    internal static string LookupContext(string name) => "lookup|" + name;
}
