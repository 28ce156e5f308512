using Cue.Tests.Infrastructure;

/// <summary>
/// Ends what an earlier run left behind before the first test, and stops whatever this run started (service
/// processes, containers) once every test has finished. In the global namespace on purpose: a set-up fixture
/// covers only its own namespace and those below it.
/// </summary>
[SetUpFixture]
public sealed class TestRun
{
    /// <summary>
    /// Ends service processes an earlier run left behind, once, before any test starts one of its own: ending
    /// them later would also end the processes this run's fixtures already started.
    /// </summary>
    [OneTimeSetUp]
    public void EndLeftovers() => Leftovers.EndAll();

    [OneTimeTearDown]
    public async Task StopEverythingAsync()
    {
        await CueStack.DisposeSharedAsync();
        await TestServices.StopContainersAsync();
    }
}
