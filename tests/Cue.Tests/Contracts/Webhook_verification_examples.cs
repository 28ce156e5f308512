using System.Diagnostics;
using System.Text;
using Cue.Examples;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Contracts;

/// <summary>
/// The receiver examples in docs/examples/ are what docs/webhooks.md shows; each must give every published verdict.
/// python3 and node are part of the build machine, so a missing interpreter fails rather than skips.
/// </summary>
public sealed class Webhook_verification_examples
{
    private static readonly IReadOnlyList<Webhook_verification.Vector> Vectors = Webhook_verification.Vectors;

    private static readonly string[][] Scripts = [["python3", "verify.py"], ["node", "verify.mjs"]];

    [TestCaseSource(nameof(Scripts))]
    public void The_script_gives_every_published_verdict(string interpreter, string script)
    {
        var (exitCode, output) = Run(interpreter, script, Webhook_verification.VectorsFile);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero, output);
            Assert.That(lines, Is.EqualTo(Vectors.Select(v => $"ok {v.Name} {v.Expected}").Append($"{Vectors.Count}/{Vectors.Count} vectors")));
        }
    }

    [TestCaseSource(nameof(Scripts))]
    public void The_script_fails_when_a_verdict_differs(string interpreter, string script)
    {
        // Flip the contract vector to "no_match": a script that really verifies must now report a failure.
        var text = File.ReadAllText(Webhook_verification.VectorsFile);
        var flipped = text.Replace("\"expected\": \"valid\"", "\"expected\": \"no_match\"", StringComparison.Ordinal);
        Assert.That(flipped, Is.Not.EqualTo(text));
        var copy = Path.Combine(Path.GetTempPath(), $"cue-vectors-{Guid.NewGuid():N}.json");
        File.WriteAllText(copy, flipped);
        try
        {
            var (exitCode, output) = Run(interpreter, script, copy);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(exitCode, Is.EqualTo(1), output);
                Assert.That(output, Does.Contain("FAIL contract_example valid"));
            }
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestCaseSource(typeof(Webhook_verification), nameof(Webhook_verification.Vectors))]
    public void The_plain_csharp_example_agrees(Webhook_verification.Vector vector) =>
        Assert.That(
            PlainVerifier.IsValid(vector.Signature, vector.Timestamp, vector.Body, vector.Secrets, DateTimeOffset.FromUnixTimeSeconds(vector.Now)),
            Is.EqualTo(vector.Expected == "valid"));

    [TestCase("python", "verify.py")]
    [TestCase("js", "verify.mjs")]
    [TestCase("csharp", "PlainVerifier.cs")]
    public void The_guide_shows_the_tested_code(string language, string file)
    {
        // docs/webhooks.md quotes the example files; a quote that drifts from the tested file is untested code.
        var guide = File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "docs", "webhooks.md")).ReplaceLineEndings("\n");
        var source = File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "docs", "examples", file)).ReplaceLineEndings("\n");
        var fence = "```" + language + "\n";
        var blocks = guide.Split(fence).Skip(1).Select(b => b[..b.IndexOf("```", StringComparison.Ordinal)]).ToList();

        Assert.That(blocks.Count(b => b.Length > 500 && source.Contains(b, StringComparison.Ordinal)), Is.EqualTo(1), $"a ```{language} block quoting {file}");
    }

    private static (int ExitCode, string Output) Run(string interpreter, string script, string vectorsFile)
    {
        var start = new ProcessStartInfo(interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Paths.RepositoryRoot,
        };
        start.ArgumentList.Add(Path.Combine(Paths.RepositoryRoot, "docs", "examples", script));
        start.ArgumentList.Add(vectorsFile);

        // Process.Start throws when the interpreter is missing: that fails the test, as intended.
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{interpreter} {script} did not finish in 30 s");
        }

        return (process.ExitCode, new StringBuilder(stdout).Append(stderr.Result).ToString());
    }
}
