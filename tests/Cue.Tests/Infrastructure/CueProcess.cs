using System.Diagnostics;

namespace Cue.Tests.Infrastructure;

/// <summary>
/// One Cue service run as its own OS process from its build output, exactly as <c>./cue up</c> runs it,
/// so tests can stop it gracefully, kill it, and start it again.
/// </summary>
public sealed class CueProcess(string project, int port, IReadOnlyDictionary<string, string> environment) : IAsyncDisposable
{
    private Process? process;
    private StreamWriter? log;
    private int generation;

    public string Project { get; } = project;
    public Uri BaseAddress { get; } = new($"http://127.0.0.1:{port}");
    public string LogPath { get; private set; } = "";
    public bool IsRunning => process is { HasExited: false };

    /// <summary>The running process's id (torture tests read its memory from /proc); null when it is not running.</summary>
    public int? ProcessId => IsRunning ? process!.Id : null;

    public async Task StartAsync()
    {
        if (IsRunning)
        {
            return;
        }

        Launch();
        await WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>Starts the process without waiting for readiness, for tests of a service that must not become ready.</summary>
    public void Launch()
    {

        var dll = Paths.ServiceDll(Project);
        var info = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // The run's master key unless the test names one (or an empty one, to see start-up refuse it): tests that
        // start an API of their own on the shared database must read what the shared stack sealed.
        info.Environment[TestKeys.MasterKeyVariable] = TestKeys.MasterKey;
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');

        generation++;
        var logDirectory = Path.Combine(TestContext.CurrentContext.WorkDirectory, "service-logs");
        Directory.CreateDirectory(logDirectory);
        // The port tells apart two instances of one project (scale-out tests run a second scheduler and delivery).
        LogPath = Path.Combine(logDirectory, $"{Project}-{BaseAddress.Port}-{Environment.ProcessId}-{generation}.log");
        log = new StreamWriter(LogPath, append: false) { AutoFlush = true };
        var writer = log;
        process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(writer, e.Data);
        process.ErrorDataReceived += (_, e) => Write(writer, e.Data);
        process.Start();
        Leftovers.Record(process.Id);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>SIGTERM and wait: the service shuts down as an operator's stop would make it.</summary>
    public async Task StopAsync()
    {
        if (process is null || process.HasExited)
        {
            return;
        }

        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>SIGKILL: a crash, with no chance to release anything.</summary>
    public async Task KillAsync()
    {
        if (process is null || process.HasExited)
        {
            return;
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public string LogTail(int lines = 60)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        process?.Dispose();
        if (log is not null)
        {
            await log.DisposeAsync();
        }
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process!.HasExited)
            {
                throw new InvalidOperationException($"{Project} exited with code {process.ExitCode} during start-up:\n{LogTail()}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Project} was not ready within {timeout.TotalSeconds} s:\n{LogTail()}");
    }

    private static void Write(StreamWriter writer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (writer)
        {
            try
            {
                writer.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
