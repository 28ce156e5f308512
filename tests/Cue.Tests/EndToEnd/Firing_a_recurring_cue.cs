using System.Globalization;
using Cue.Tests.Infrastructure;
using Npgsql;

namespace Cue.Tests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Firing_a_recurring_cue
{
    [Test]
    public async Task Fires_on_the_minute_in_its_time_zone_and_moves_to_the_next_occurrence()
    {
        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "every-minute",
            schedule = new { type = "recurring", cron = "*/1 * * * *", timezone = "europe/paris" },
            callback = new { url = receiver.Url.ToString() },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;
        Assert.That(created.Json.GetProperty("schedule").GetProperty("timezone").GetString(), Is.EqualTo("Europe/Paris"));
        var nextRun = DateTimeOffset.Parse(created.Json.GetProperty("next_run").GetString()!, CultureInfo.InvariantCulture);
        Assert.That(nextRun.Second + nextRun.Millisecond, Is.Zero, "a */1 cron fires on whole minutes");

        var received = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(75));
        Assert.That(received, Has.Count.GreaterThanOrEqualTo(1), stack.Logs());
        Assert.That(received[0].Header("X-Cue-Scheduled-For"), Is.EqualTo(Cue.Contracts.Timestamps.ToWire(nextRun)));

        // The due index now holds the following occurrence, one minute on.
        await using var connection = new NpgsqlConnection(stack.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select due_at from cue.due_index where id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = "o:" + cueId });
        DateTimeOffset? due = null;
        for (var i = 0; i < 20 && (due is null || due <= nextRun); i++)
        {
            await using var reader = await command.ExecuteReaderAsync();
            due = await reader.ReadAsync() ? reader.GetFieldValue<DateTimeOffset>(0) : null;
            await Task.Delay(100);
        }

        Assert.That(due, Is.EqualTo(nextRun.AddMinutes(1)));

        var executions = await api.PollAsync($"/v1/executions?cue_id={cueId}", account.ApiKey,
            j => j.GetProperty("total").GetInt32() >= 1 && j.GetProperty("executions").EnumerateArray().All(e => e.GetProperty("status").GetString() == "success"),
            TimeSpan.FromSeconds(15));
        var statuses = executions.GetProperty("executions").EnumerateArray().Select(e => e.GetProperty("status").GetString()).ToList();
        Assert.That(statuses, Is.Not.Empty.And.All.EqualTo("success"), stack.Logs());
    }
}
