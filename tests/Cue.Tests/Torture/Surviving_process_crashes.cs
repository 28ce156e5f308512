using Cue.Tests.Infrastructure;

namespace Cue.Tests.Torture;

/// <summary>
/// Invariants 1 and 2 through crashes (issue 8, scenario 1): while the plan's cues fire, SIGKILL the delivery
/// worker, then the scheduler, then the API (each started again at once, as <c>./cue up -d</c> would), then all
/// three together. Every cue is delivered, a repeated delivery repeats its execution id, and the audit log
/// ends with exactly one final execution per (cue, scheduled time).
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("Torture")]
public sealed class Surviving_process_crashes
{
    private PrivateStack stack = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => stack = await PrivateStack.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await PrivateStack.DisposeIfStartedAsync(stack);

    [Test]
    public async Task Every_cue_is_delivered_and_recorded_once_through_kills_of_each_service_and_of_all()
    {
        var scale = TortureScale.Current;
        await using var receiver = await WebhookReceiver.StartAsync();
        var plan = await FiringPlan.CreateAsync(stack, receiver, scale, lead: TimeSpan.FromSeconds(TortureScale.Full ? 12 : 8));
        var window = scale.Window;

        await plan.AtAsync(window * 0.10);
        await CrashAndRestartAsync(stack.Delivery);
        await plan.AtAsync(window * 0.30);
        await CrashAndRestartAsync(stack.Scheduler);
        await plan.AtAsync(window * 0.50);
        await CrashAndRestartAsync(stack.Api);
        await plan.AtAsync(window * 0.70);
        await CrashAndRestartAsync(stack.Api, stack.Scheduler, stack.Delivery);

        var row = await plan.CountAsync("kill delivery, scheduler, api, then all", "SIGKILL, restarted at once", window + TimeSpan.FromSeconds(90));
        Assert.Multiple(() =>
        {
            Assert.That(row.Missing, Is.Zero, stack.Logs());
            Assert.That(row.BadExecutions, Is.Zero, "executions not exactly one final success per (cue, scheduled time)");
            Assert.That(row.ServerErrors, Is.Zero);
            Assert.That(row.MismatchedDeliveries, Is.Zero, "cues whose deliveries disagree on the execution id or scheduled_for");
        });
    }

    private static async Task CrashAndRestartAsync(params CueProcess[] services)
    {
        await Task.WhenAll(services.Select(s => s.KillAsync()));
        // The API owns the schema and the others wait for it under ./cue up: start it first here too.
        foreach (var api in services.Where(s => s.Project == "Cue.Api"))
        {
            await api.StartAsync();
        }

        await Task.WhenAll(services.Where(s => s.Project != "Cue.Api").Select(s => s.StartAsync()));
    }
}
