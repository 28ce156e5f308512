namespace Cue.Tests.Infrastructure;

/// <summary>Where the repository and the services' build outputs are, relative to this test assembly.</summary>
public static class Paths
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The build configuration the tests were built in; the services were built in the same one.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar).SkipWhile(p => p != "bin").Skip(1).FirstOrDefault() ?? "Debug";

    public static string ServiceDll(string project)
    {
        var dll = Path.Combine(RepositoryRoot, "src", project, "bin", Configuration, "net10.0", project + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build output of {project} not found; build the solution first.", dll);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "cue.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cue.sln not found above " + AppContext.BaseDirectory);
    }
}
