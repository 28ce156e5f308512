using Cue.Tests.Infrastructure;

/// <summary>
/// Stops whatever the run started (service processes, containers) once every test has finished. In the
/// global namespace on purpose: a set-up fixture covers only its own namespace and those below it.
/// </summary>
[SetUpFixture]
public sealed class TestRun
{
    [OneTimeTearDown]
    public async Task StopEverythingAsync()
    {
        await CueStack.DisposeSharedAsync();
        await TestServices.StopContainersAsync();
    }
}
