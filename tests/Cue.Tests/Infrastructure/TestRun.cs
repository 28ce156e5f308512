namespace Cue.Tests.Infrastructure;

/// <summary>Stops whatever the run started (service processes, containers) once every test has finished.</summary>
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
