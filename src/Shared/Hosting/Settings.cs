using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Cue.Hosting;

/// <summary>Reads required settings, failing loudly with the key's name when one is missing.</summary>
internal static class Settings
{
    public const string PostgresKey = "ConnectionStrings:Postgres";
    public const string RabbitMqKey = "ConnectionStrings:RabbitMq";

    public static string Required(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"Missing setting '{key}' (environment variable '{key.Replace(":", "__", StringComparison.Ordinal)}').");
        }

        return value;
    }

    /// <summary>Overrides every service's default pool size (a <c>Maximum Pool Size</c> in the connection string wins over both).</summary>
    public const string MaxPoolSizeKey = "Postgres:MaxPoolSize";

    public static string Postgres(IConfiguration configuration) => Required(configuration, PostgresKey);

    /// <summary>
    /// The connection string with Cue's pool settings, each kept as given when the string names it:
    /// <list type="bullet">
    /// <item>A bounded pool. Npgsql's default is 100 connections per pool, so a few instances of three
    /// services could take all of PostgreSQL's <c>max_connections</c> (300 here) in a burst, and then a write
    /// after a webhook went out fails. Each service passes its own default (<paramref name="defaultMaxPoolSize"/>);
    /// <c>Postgres:MaxPoolSize</c> overrides it.</item>
    /// <item>No reset when a connection returns to the pool, and statements prepared automatically. The reset
    /// (<c>DISCARD ALL</c>) also threw away PostgreSQL's cached plans, Marten's append function's included,
    /// on every reuse; Cue sets no session state a reset would need to clear. Creates/s went 590 → 870.</item>
    /// </list>
    /// </summary>
    public static string PostgresPooled(IConfiguration configuration, int defaultMaxPoolSize)
    {
        var given = Postgres(configuration);
        var builder = new NpgsqlConnectionStringBuilder(given);
        // The plain builder keeps only the keys the string names (Npgsql's knows every key and its default).
        var named = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = given };
        bool Unnamed(params string[] spellings) => !spellings.Any(named.ContainsKey);

        if (Unnamed("Maximum Pool Size", "Max Pool Size", "MaxPoolSize"))
        {
            builder.MaxPoolSize = configuration.GetValue(MaxPoolSizeKey, defaultMaxPoolSize);
        }

        if (Unnamed("No Reset On Close", "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        if (Unnamed("Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// One data source (one pool) for everything a service does in PostgreSQL: Marten is given the same
    /// one (<c>StoreOptions.Connection(NpgsqlDataSource)</c>), so a service holds at most one pool's worth.
    /// </summary>
    public static NpgsqlDataSource PostgresDataSource(IConfiguration configuration, int defaultMaxPoolSize) =>
        NpgsqlDataSource.Create(PostgresPooled(configuration, defaultMaxPoolSize));

    public static Uri RabbitMq(IConfiguration configuration)
    {
        var raw = Required(configuration, RabbitMqKey);
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            throw new InvalidOperationException($"Setting '{RabbitMqKey}' must be an amqp:// or amqps:// URI.");
        }

        return uri;
    }

    /// <summary>The broker's port: the URI's own, or AMQP's default for its scheme (5671 over TLS, 5672 plain).</summary>
    public static int RabbitMqPort(Uri uri) => uri.IsDefaultPort || uri.Port <= 0 ? (uri.Scheme == "amqps" ? 5671 : 5672) : uri.Port;
}
