using System.Diagnostics;
using System.Globalization;

namespace Cue.Tests.Infrastructure;

/// <summary>
/// Service processes a previous run left behind (a test host killed before its teardown ran) would
/// consume this run's messages from the same vhost. Their pids are recorded here and ended before a
/// new stack starts — only processes that still run one of this repository's service builds.
/// </summary>
public static class Leftovers
{
    private static readonly string PidFile = Path.Combine(Paths.RepositoryRoot, "tests", "Cue.Tests", "bin", "service-pids.txt");
    private static readonly Lock Gate = new();

    public static void Record(int pid)
    {
        lock (Gate)
        {
            File.AppendAllText(PidFile, pid.ToString(CultureInfo.InvariantCulture) + "\n");
        }
    }

    public static void EndAll()
    {
        lock (Gate)
        {
            if (!File.Exists(PidFile))
            {
                return;
            }

            foreach (var line in File.ReadAllLines(PidFile))
            {
                if (int.TryParse(line, CultureInfo.InvariantCulture, out var pid) && IsOurService(pid))
                {
                    try
                    {
                        using var process = Process.GetProcessById(pid);
                        process.Kill(entireProcessTree: true);
                        process.WaitForExit(5000);
                    }
                    catch (ArgumentException)
                    {
                    }
                }
            }

            File.Delete(PidFile);
        }
    }

    private static bool IsOurService(int pid)
    {
        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            return commandLine.Contains(Path.Combine(Paths.RepositoryRoot, "src"), StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
