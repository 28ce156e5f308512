using Microsoft.Extensions.Configuration;

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

    public static string Postgres(IConfiguration configuration) => Required(configuration, PostgresKey);

    public static Uri RabbitMq(IConfiguration configuration)
    {
        var raw = Required(configuration, RabbitMqKey);
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            throw new InvalidOperationException($"Setting '{RabbitMqKey}' must be an amqp:// or amqps:// URI.");
        }

        return uri;
    }
}
