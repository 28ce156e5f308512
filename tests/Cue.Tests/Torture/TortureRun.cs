using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Torture;

/// <summary>
/// How hard the torture scenarios push. <c>./cue test</c> runs the fast slice; <c>./cue torture</c> sets
/// <c>CUE_TORTURE=full</c> for several hundred cues over half a minute per scenario.
/// </summary>
public sealed record TortureScale(int Cues, TimeSpan Window)
{
    public static bool Full => Environment.GetEnvironmentVariable("CUE_TORTURE") == "full";

    public static TortureScale Current => Full ? new(400, TimeSpan.FromSeconds(32)) : new(60, TimeSpan.FromSeconds(14));
}

/// <summary>One row of the torture table: counts, never timings.</summary>
/// <remarks><paramref name="MismatchedDeliveries"/>: cues whose deliveries disagree on the execution id or scheduled_for.</remarks>
public sealed record TortureRow(string Scenario, int Sent, int Delivered, int Missing, int DuplicateDeliveries, int MismatchedDeliveries, int BadExecutions, int ServerErrors, string Notes);

/// <summary>
/// Collects each scenario's row; <c>./cue torture</c> prints them as a table from <c>CUE_TORTURE_REPORT</c>.
/// </summary>
public static class TortureReport
{
    private static readonly Lock Gate = new();

    public static void Add(TortureRow row)
    {
        var line = string.Join('\t', row.Scenario, row.Sent, row.Delivered, row.Missing, row.DuplicateDeliveries, row.MismatchedDeliveries, row.BadExecutions, row.ServerErrors, row.Notes);
        TestContext.Progress.WriteLine($"torture: {line}");
        var path = Environment.GetEnvironmentVariable("CUE_TORTURE_REPORT");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        lock (Gate)
        {
            File.AppendAllText(path, line + "\n");
        }
    }
}

/// <summary>
/// A Cue of the scenario's own — API, scheduler and delivery processes on a PostgreSQL and a RabbitMQ that
/// nobody else uses — so a scenario can kill services and stop the stores without touching other tests.
/// </summary>
public sealed class PrivateStack : IAsyncDisposable
{
    private PrivateStack(PrivatePostgres postgres, PrivateRabbitMq rabbit, Dictionary<string, string> environment)
    {
        Postgres = postgres;
        Rabbit = rabbit;
        Api = new CueProcess("Cue.Api", CueStack.FreePort(), environment);
        Scheduler = new CueProcess("Cue.Scheduler", CueStack.FreePort(), environment);
        Delivery = new CueProcess("Cue.Delivery", CueStack.FreePort(), environment);
    }

    public PrivatePostgres Postgres { get; }

    public PrivateRabbitMq Rabbit { get; }

    public CueProcess Api { get; }

    public CueProcess Scheduler { get; }

    public CueProcess Delivery { get; }

    public IEnumerable<CueProcess> Services => [Api, Scheduler, Delivery];

    /// <param name="configure">Settings of the scenario's own on top of the defaults (rate limits, quotas).</param>
    public static async Task<PrivateStack> StartAsync(Action<Dictionary<string, string>>? configure = null)
    {
        var servers = (Postgres: PrivatePostgres.StartAsync(), Rabbit: PrivateRabbitMq.StartAsync());
        try
        {
            await Task.WhenAll(servers.Postgres, servers.Rabbit);
        }
        catch
        {
            // Whichever server did start is stopped again: a failed set-up leaves nothing running.
            if (servers.Postgres.IsCompletedSuccessfully)
            {
                await servers.Postgres.Result.DisposeAsync();
            }

            if (servers.Rabbit.IsCompletedSuccessfully)
            {
                await servers.Rabbit.Result.DisposeAsync();
            }

            throw;
        }

        var postgres = servers.Postgres.Result;
        var rabbit = servers.Rabbit.Result;
        var environment = CueStack.ServiceEnvironment(postgres.ConnectionString(), rabbit.Uri);
        // Outages here last up to ~15 s: keep them well inside the contract's missed threshold, so every
        // occurrence is owed a delivery and the counts below can demand all of them.
        environment["Dispatch__MissedAfter"] = "00:01:00";
        environment["Logging__LogLevel__Default"] = "Warning";
        configure?.Invoke(environment);
        var stack = new PrivateStack(postgres, rabbit, environment);
        await stack.Api.StartAsync();
        await Task.WhenAll(stack.Scheduler.StartAsync(), stack.Delivery.StartAsync());
        return stack;
    }

    public string Logs() =>
        string.Join('\n', Services.Select(s => $"--- {s.Project} ---\n{s.LogTail(40)}"));

    /// <summary>A fixture's teardown: <paramref name="stack"/> is null when its set-up failed, which has already stopped what it started.</summary>
    public static ValueTask DisposeIfStartedAsync(PrivateStack? stack) => stack?.DisposeAsync() ?? ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var service in Services)
        {
            await service.DisposeAsync();
        }

        await Rabbit.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}

/// <summary>
/// The cues of one scenario: once cues due one after another across a window, all to one receiver; then the
/// counts that invariants 1 and 2 demand, taken at the receiver and in the audit log.
/// </summary>
public sealed class FiringPlan
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> due = new();
    private int serverErrors;

    private FiringPlan(CueApiClient api, CueApiClient.Account account, WebhookReceiver receiver)
    {
        Api = api;
        Account = account;
        Receiver = receiver;
    }

    public CueApiClient Api { get; }

    public CueApiClient.Account Account { get; }

    public WebhookReceiver Receiver { get; }

    public DateTimeOffset Start { get; private set; }

    public int ServerErrors => serverErrors;

    public IReadOnlyDictionary<string, DateTimeOffset> Due => due;

    public static async Task<FiringPlan> CreateAsync(PrivateStack stack, WebhookReceiver receiver, TortureScale scale, TimeSpan lead)
    {
        var api = new CueApiClient(stack.Api.BaseAddress);
        var account = await api.RegisterAsync("test");
        var plan = new FiringPlan(api, account, receiver) { Start = DateTimeOffset.UtcNow + lead };
        var step = scale.Window / scale.Cues;
        var late = 0;
        // In due order, so that on a slow machine the first cues are created first: each must be accepted a
        // second before it is due, or the scenario would measure the create path rather than the firing.
        await Parallel.ForEachAsync(Enumerable.Range(0, scale.Cues), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var at = TruncateToMilliseconds(plan.Start + (step * i));
            var cue = new
            {
                name = $"torture-{i:D4}",
                schedule = new { type = "once", at = Timestamps.ToWire(at) },
                callback = new { url = receiver.Url.ToString() },
                retry = new { max_attempts = 5, backoff_minutes = new[] { 1, 1, 1, 1 } },
            };
            var reply = await api.PostAsync("/v1/cues", account.ApiKey, cue);
            // A scenario with a low rate limit (Under_load) is a client like any other: it waits as told and retries.
            while (reply.Status == 429 && reply.Response.Headers.RetryAfter?.Delta is { } wait)
            {
                await Task.Delay(wait, CancellationToken.None);
                reply = await api.PostAsync("/v1/cues", account.ApiKey, cue);
            }

            if (reply.Status != 201)
            {
                throw new InvalidOperationException($"create {i} answered {reply.Status}: {reply.Json}");
            }

            plan.due[reply.Json.GetProperty("id").GetString()!] = at;
            if (DateTimeOffset.UtcNow > at - TimeSpan.FromSeconds(1))
            {
                Interlocked.Increment(ref late);
            }
        });

        Assert.That(late, Is.Zero, "cues accepted less than a second before they were due; raise the lead");
        return plan;
    }

    /// <summary>Waits until <paramref name="instant"/> (relative to the plan's start).</summary>
    public async Task AtAsync(TimeSpan offset)
    {
        var wait = Start + offset - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    /// <summary>Counts <paramref name="status"/> as a server error when it is a 5xx.</summary>
    public void CountServerError(int status)
    {
        if (status >= 500)
        {
            Interlocked.Increment(ref serverErrors);
        }
    }

    /// <summary>
    /// Waits for every cue to reach the receiver and to end in the audit log, then counts: distinct cues
    /// delivered, missing ones, extra deliveries (each must repeat its execution's id), and executions that
    /// are not exactly one final <c>success</c> per (cue, scheduled time).
    /// </summary>
    /// <param name="report">False when the caller adds the row itself, with notes only it can write.</param>
    public async Task<TortureRow> CountAsync(string scenario, string notes, TimeSpan timeout, bool report = true)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && DeliveredCues().Count < due.Count)
        {
            await Task.Delay(250);
        }

        List<JsonElement> executions = [];
        while (true)
        {
            executions = await AllExecutionsAsync();
            var settled = executions.Count >= due.Count && executions.All(e => e.GetProperty("status").GetString() is "success" or "failed" or "missed" or "cancelled");
            if (settled || DateTime.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(500);
        }

        var deliveries = Receiver.Received.Where(r => due.ContainsKey(r.Header("X-Cue-Cue-Id"))).ToList();
        var delivered = DeliveredCues();
        var problems = new StringBuilder();
        var duplicates = deliveries.Count - delivered.Count;
        var mismatched = 0;
        foreach (var group in deliveries.GroupBy(r => r.Header("X-Cue-Cue-Id")))
        {
            if (group.Select(r => r.Header("X-Cue-Execution-Id")).Distinct().Count() != 1
                || group.Any(r => r.Header("X-Cue-Scheduled-For") != Timestamps.ToWire(due[group.Key])))
            {
                mismatched++;
            }

            if (group.Select(r => r.Header("X-Cue-Execution-Id")).Distinct().Count() != 1)
            {
                problems.AppendLine(CultureInfo.InvariantCulture, $"cue {group.Key}: deliveries with different execution ids");
            }

            if (group.Any(r => r.Header("X-Cue-Scheduled-For") != Timestamps.ToWire(due[group.Key])))
            {
                problems.AppendLine(CultureInfo.InvariantCulture, $"cue {group.Key}: a delivery with another scheduled_for");
            }
        }

        var bad = 0;
        var byCue = executions.GroupBy(e => e.GetProperty("cue_id").GetString()!).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (cueId, at) in due)
        {
            var mine = byCue.GetValueOrDefault(cueId) ?? [];
            var expectedId = deliveries.FirstOrDefault(r => r.Header("X-Cue-Cue-Id") == cueId)?.Header("X-Cue-Execution-Id");
            var ok = mine.Count == 1
                && mine[0].GetProperty("status").GetString() == "success"
                && mine[0].GetProperty("scheduled_for").GetString() == Timestamps.ToWire(at)
                && mine[0].GetProperty("id").GetString() == expectedId;
            if (!ok)
            {
                bad++;
                problems.AppendLine(CultureInfo.InvariantCulture, $"cue {cueId}: {mine.Count} execution(s): {string.Join(", ", mine.Select(e => e.GetProperty("status").GetString()))}");
            }
        }

        var row = new TortureRow(scenario, due.Count, delivered.Count, due.Count - delivered.Count, duplicates, mismatched, bad, ServerErrors,
            problems.Length == 0 ? notes : $"{notes}; {problems.ToString().Split('\n')[0]}");
        if (report)
        {
            TortureReport.Add(row);
        }

        if (problems.Length > 0)
        {
            TestContext.Progress.WriteLine(problems.ToString());
        }

        return row;
    }

    private HashSet<string> DeliveredCues() =>
        [.. Receiver.Received.Select(r => r.Header("X-Cue-Cue-Id")).Where(due.ContainsKey)];

    private async Task<List<JsonElement>> AllExecutionsAsync()
    {
        var all = new List<JsonElement>();
        for (var offset = 0; ; offset += 100)
        {
            var page = await Api.GetAsync($"/v1/executions?limit=100&offset={offset}", Account.ApiKey);
            CountServerError(page.Status);
            if (page.Status != 200)
            {
                return all;
            }

            all.AddRange(page.Json.GetProperty("executions").EnumerateArray().Select(e => e.Clone()));
            if (!page.Json.GetProperty("has_more").GetBoolean())
            {
                return all;
            }
        }
    }

    private static DateTimeOffset TruncateToMilliseconds(DateTimeOffset at) =>
        new(at.Ticks - (at.Ticks % TimeSpan.TicksPerMillisecond), at.Offset);
}
