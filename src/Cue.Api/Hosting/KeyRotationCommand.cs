using Cue.Encryption;
using Cue.Hosting;
using Npgsql;

namespace Cue.Api.Hosting;

/// <summary>
/// <c>Cue.Api keys rotate</c>: re-wraps every stored data key from <c>Encryption:PreviousMasterKey</c> (the key in
/// use until now) to <c>Encryption:MasterKey</c> (the new one), against the database of
/// <c>ConnectionStrings:Postgres</c>. Events and documents are not touched. Run it with the services stopped
/// (they cache keys and would keep wrapping new accounts' keys under the old master key), then start them with
/// the new key. <c>./cue keys rotate</c> does all of that for a local install.
/// </summary>
internal static class KeyRotationCommand
{
    private const string Usage = "usage: Cue.Api keys rotate   (Encryption__MasterKey = the new key, Encryption__PreviousMasterKey = the key in use until now)";

    public static bool IsCommand(string[] args) => args is ["keys", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not ["keys", "rotate"])
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        var configuration = builder.Configuration;
        var next = MasterKey.Parse(configuration[EncryptionOptions.MasterKeySetting]);
        var previous = MasterKey.Parse(configuration[EncryptionOptions.PreviousMasterKeySetting]);
        if (next is null || previous is null)
        {
            await Console.Error.WriteLineAsync(
                $"keys rotate needs both '{EncryptionOptions.MasterKeySetting}' (the new key) and '{EncryptionOptions.PreviousMasterKeySetting}' (the key in use until now), " +
                "each the base64 of 32 bytes (environment variables Encryption__MasterKey and Encryption__PreviousMasterKey).");
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        try
        {
            await using var dataSource = NpgsqlDataSource.Create(Settings.Postgres(configuration));
            var result = await KeyRotation.RotateAsync(dataSource, next, previous, CancellationToken.None);
            Console.WriteLine($"re-wrapped {result.Rewrapped} key(s) from master key {result.From} to {result.To}" +
                              (result.AlreadyCurrent > 0 ? $"; {result.AlreadyCurrent} already under {result.To}" : "") +
                              ". Start the services with the new key; the old key now opens only backups taken before this rotation.");
            return 0;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // Npgsql's messages name the host and port, never the password; key errors name key ids, never keys.
            await Console.Error.WriteLineAsync($"keys rotate failed: {ex.Message}");
            return 1;
        }
    }
}
