using System.ComponentModel;
using System.Diagnostics;
using Cue.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Cue.Tests.Deploy;

/// <summary>
/// A real compose implementation, run only for <c>config</c>: it parses, merges, interpolates and
/// validates compose.yaml without a Docker engine. <c>docker compose</c> (v2) when it is installed,
/// else Debian's <c>docker-compose</c> (1.29), which <c>./cue test</c> installs when neither is there.
/// </summary>
public static class ComposeCli
{
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>The values the required variables get in these tests; none of them is a real secret.</summary>
    public static IReadOnlyDictionary<string, string> RequiredVariables(string scratch)
    {
        var certificate = Path.Combine(scratch, "tls.pfx");
        var masterKey = Path.Combine(scratch, "master-key");
        File.WriteAllText(certificate, "not a certificate: compose config only checks the path");
        File.WriteAllText(masterKey, "not a key");
        return new Dictionary<string, string>
        {
            ["CUE_POSTGRES_PASSWORD"] = "pg-test-password",
            ["CUE_RABBITMQ_PASSWORD"] = "rmq-test-password",
            ["CUE_TLS_CERTIFICATE"] = certificate,
            ["CUE_TLS_CERTIFICATE_PASSWORD"] = "tls-test-password",
            ["CUE_ENCRYPTION_MASTER_KEY_FILE"] = masterKey,
        };
    }

    /// <summary>Runs <c>config</c> on the repository's compose.yaml with exactly these Cue/OTEL variables set.</summary>
    public static async Task<Result> ConfigAsync(IReadOnlyDictionary<string, string> variables)
    {
        var command = await FindAsync();
        var info = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = Paths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1).Concat(["-f", Path.Combine(Paths.RepositoryRoot, "compose.yaml"), "config"]))
        {
            info.ArgumentList.Add(argument);
        }

        // The developer's own settings must not decide the outcome.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("CUE_", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal) || k.StartsWith("COMPOSE_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in variables)
        {
            info.Environment[name] = value;
        }

        return await RunAsync(info);
    }

    public static YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static async Task<string[]> FindAsync()
    {
        string[][] candidates = [["docker", "compose"], ["docker-compose"]];
        foreach (var candidate in candidates)
        {
            var info = new ProcessStartInfo(candidate[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in candidate.Skip(1).Append("version"))
            {
                info.ArgumentList.Add(argument);
            }

            try
            {
                if ((await RunAsync(info)).ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (Win32Exception)
            {
                // not on PATH: try the next one
            }
        }

        Assert.Fail("No compose implementation to validate compose.yaml with: neither `docker compose` nor `docker-compose` runs. " +
            "Install Debian's (no engine needed): apt-get install -y --no-install-recommends docker-compose — `./cue test` does this itself.");
        return [];
    }

    private static async Task<Result> RunAsync(ProcessStartInfo info)
    {
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await error);
    }
}
