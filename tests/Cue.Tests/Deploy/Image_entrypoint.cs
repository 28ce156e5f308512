using System.Diagnostics;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Deploy;

/// <summary>
/// deploy/entrypoint.sh, the images' entrypoint, run with /bin/sh as the image runs it, with a stand-in
/// <c>dotnet</c> on PATH that prints what it was started with.
/// </summary>
[TestFixture]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a Linux image's /bin/sh script
public sealed class Image_entrypoint
{
    private string scratch = "";

    [SetUp]
    public void CreateScratch()
    {
        scratch = Path.Combine(TestContext.CurrentContext.WorkDirectory, "entrypoint-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(scratch, "bin"));
        var dotnet = Path.Combine(scratch, "bin", "dotnet");
        File.WriteAllText(dotnet, """
            #!/bin/sh
            printf 'args=%s\n' "$*"
            printf 'key=[%s]\n' "${Encryption__MasterKey-unset}"
            printf 'key_file=%s\n' "${Encryption__MasterKey_FILE-unset}"
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
    }

    [TearDown]
    public void RemoveScratch() => Directory.Delete(scratch, recursive: true);

    [Test]
    public async Task A_NAME_FILE_variable_becomes_NAME_with_the_file_contents_and_the_service_dll_runs()
    {
        var keyFile = Path.Combine(scratch, "master-key");
        await File.WriteAllTextAsync(keyFile, "k3y with spaces $HOME `x`\n");

        var (exitCode, output, error) = await RunAsync(new() { ["CUE_DLL"] = "Cue.Delivery.dll", ["Encryption__MasterKey_FILE"] = keyFile });

        Assert.That(exitCode, Is.Zero, error);
        Assert.That(output, Does.Contain("args=/app/Cue.Delivery.dll\n"));
        Assert.That(output, Does.Contain("key=[k3y with spaces $HOME `x`]\n"), "the contents, verbatim, without the trailing newline");
        Assert.That(output, Does.Contain("key_file=unset\n"), "the _FILE variable is not handed on");
    }

    [Test]
    public async Task Without_NAME_FILE_variables_the_service_dll_runs_as_is()
    {
        var (exitCode, output, error) = await RunAsync(new() { ["CUE_DLL"] = "Cue.Api.dll" });

        Assert.That(exitCode, Is.Zero, error);
        Assert.That(output, Does.Contain("args=/app/Cue.Api.dll\n"));
        Assert.That(output, Does.Contain("key=[unset]\n"));
    }

    [Test]
    public async Task A_NAME_FILE_that_cannot_be_read_stops_the_container_before_the_service_starts()
    {
        var missing = Path.Combine(scratch, "no-such-secret");

        var (exitCode, output, error) = await RunAsync(new() { ["CUE_DLL"] = "Cue.Api.dll", ["Encryption__MasterKey_FILE"] = missing });

        Assert.That(exitCode, Is.Not.Zero);
        Assert.That(output, Does.Not.Contain("args="), "the service started without its secret");
        Assert.That(error, Does.Contain("Encryption__MasterKey_FILE").And.Contain(missing));
    }

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("/bin/sh", [Path.Combine(Paths.RepositoryRoot, "deploy", "entrypoint.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment.Clear();
        info.Environment["PATH"] = Path.Combine(scratch, "bin") + ":/usr/bin:/bin";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
