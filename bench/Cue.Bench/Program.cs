using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cue.Bench;

// ./cue bench [--quick] [--write]: raw limits and Cue's figures measured in the same run, printed as one
// table; with --write (the full run always) also docs/benchmarks.md from bench/benchmarks.template.md and
// the lag chart. Benchmarks are not tests: nothing here runs in ./cue test.
var quick = args.Contains("--quick");
var write = args.Contains("--write");
var apiUrl = new Uri(Option("--api") ?? Environment.GetEnvironmentVariable("CUE_API_URL") ?? "http://127.0.0.1:5080");
var postgres = Option("--postgres") ?? Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("--postgres <connection string of the product database> (or ConnectionStrings__Postgres) is required");
var template = Option("--template") ?? "bench/benchmarks.template.md";
var docPath = Option("--doc") ?? "docs/benchmarks.md";
var chartPath = Option("--chart") ?? "docs/images/bench-lag.svg";
var plan = quick
    ? new Plan(Rounds: 1, HeavyRounds: 1, RawPosts: 5_000, Creates: 1_000, WarmUp: 2_000, FireRate: 50, FireSeconds: 20, Grace: TimeSpan.FromSeconds(15),
        CommitSeconds: 3, CommitConnections: 16, QuartzJobs: 2_000, Burst: 2_000, BurstTimeout: TimeSpan.FromSeconds(60),
        Executions: 100_000, PageRequests: 100, PageTime: TimeSpan.FromSeconds(10))
    : new Plan(Rounds: 3, HeavyRounds: 2, RawPosts: 20_000, Creates: 3_000, WarmUp: 3_000, FireRate: 100, FireSeconds: 60, Grace: TimeSpan.FromSeconds(30),
        CommitSeconds: 5, CommitConnections: 16, QuartzJobs: 10_000, Burst: 10_000, BurstTimeout: TimeSpan.FromSeconds(300),
        Executions: 1_000_000, PageRequests: 300, PageTime: TimeSpan.FromSeconds(30));
if (Option("--rounds") is { } rounds)
{
    // for working on the bench itself: --rounds 0 runs only the GET /v1/executions part
    plan = plan with { Rounds = int.Parse(rounds, CultureInfo.InvariantCulture), HeavyRounds = Math.Min(plan.HeavyRounds, int.Parse(rounds, CultureInfo.InvariantCulture)) };
}

const int Concurrency = 64;
const int FewInFlight = 8;
var total = Stopwatch.StartNew();
var date = TimeProvider.System.GetUtcNow();

await using var receiver = await Receiver.StartAsync();
using var api = new ApiClient(apiUrl);
var account = await api.RegisterAsync();
var me = await api.MeAsync(account.ApiKey);
var perMinute = me.GetProperty("rate_limit_per_minute").GetInt32();
var cueLimit = me.GetProperty("active_cue_limit").GetInt32();
var needed = Math.Max(plan.Creates + plan.FireRate * plan.FireSeconds, plan.Burst);
if (perMinute < needed * 2 || cueLimit < needed)
{
    Console.Error.WriteLine(
        $"cue bench: the running API allows {perMinute} requests/min and {cueLimit} active cues per account; the bench needs " +
        $"more than {needed * 2} and {needed}. Stop it (./cue down) and let ./cue bench start it with raised limits.");
    return 1;
}

// The services may have just started: the first requests pay for JIT compilation and for preparing each
// statement on each pooled connection. A round of creates that is not timed keeps that out of the figures.
Console.Error.WriteLine($"cue bench: warming up (POST /v1/cues x {plan.WarmUp}, not timed)");
await CreatesAsync(api, account.ApiKey, receiver.Url, plan.WarmUp, round: 0);

if (Option("--burst-only") is { } burstOnly)
{
    // for profiling the burst: only the burst, the given number of cues, no table
    var only = await Burst.RunAsync(api, receiver, int.Parse(burstOnly, CultureInfo.InvariantCulture), 500, plan.BurstTimeout, 1);
    Console.WriteLine(FormattableString.Invariant(
        $"burst: {only.Delivered}/{only.Expected} delivered, first {only.FirstDeliveredSeconds:0.00} s, last {only.LastDeliveredSeconds:0.00} s, all recorded {only.RecordedSeconds:0.00} s, {only.Duplicates} duplicates"));
    return 0;
}

if (Option("--creates-only") is { } createsOnly)
{
    // for profiling the create path: only POST /v1/cues, the given number of times per round (--in-flight N
    // at once, default 64), no table
    var inFlight = Option("--in-flight") is { } given ? int.Parse(given, CultureInfo.InvariantCulture) : Concurrency;
    for (var round = 1; round <= plan.Rounds; round++)
    {
        var only = await CreatesAsync(api, account.ApiKey, receiver.Url, int.Parse(createsOnly, CultureInfo.InvariantCulture), round, inFlight);
        Console.WriteLine(FormattableString.Invariant($"creates: {only.PerSecond:0}/s, p50 {only.P50:0.0} ms, p99 {only.P99:0.0} ms, {only.Failures} failed"));
    }

    return 0;
}

var scratch = await Postgres.EnsureScratchAsync(postgres);
var server = new ServerInfo(
    await Postgres.ShowAsync(postgres, "server_version"), await Postgres.ShowAsync(postgres, "fsync"),
    await Postgres.ShowAsync(postgres, "synchronous_commit"));

var results = new List<Round>();
for (var round = 1; round <= plan.Rounds; round++)
{
    var heavy = round <= plan.HeavyRounds;
    Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: raw signed POSTs");
    var raw = await RawPostsAsync(receiver.Url, plan.RawPosts);
    Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: PostgreSQL commits/s (1 and {plan.CommitConnections} connections, {plan.CommitSeconds} s each)");
    var commits1 = await Postgres.CommitsPerSecondAsync(scratch, 1, TimeSpan.FromSeconds(plan.CommitSeconds));
    var commitsN = await Postgres.CommitsPerSecondAsync(scratch, plan.CommitConnections, TimeSpan.FromSeconds(plan.CommitSeconds));
    Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: POST /v1/cues x {plan.Creates}");
    var creates = await CreatesAsync(api, account.ApiKey, receiver.Url, plan.Creates, round);
    // The same creates with fewer in flight: what one request costs when it does not queue behind 63 others.
    Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: POST /v1/cues x {plan.Creates / 2}, {FewInFlight} in flight");
    var createsFew = await CreatesAsync(api, account.ApiKey, receiver.Url, plan.Creates / 2, round, FewInFlight, "bench-few");
    Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: firing {plan.FireRate}/s for {plan.FireSeconds} s");
    var firing = await FiringAsync(api, account.ApiKey, receiver, plan, round);
    QuartzResult? quartz = null;
    BurstResult? burst = null;
    if (heavy)
    {
        Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: Quartz no-op baseline, {plan.QuartzJobs} triggers due at once");
        quartz = await QuartzBaseline.RunAsync(scratch, plan.QuartzJobs);
        Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: burst of {plan.Burst} once cues due in the same second");
        burst = await Burst.RunAsync(api, receiver, plan.Burst, creates.PerSecond, plan.BurstTimeout, round);
    }

    results.Add(new Round(raw, commits1, commitsN, creates, createsFew, firing, quartz, burst));
}

Console.Error.WriteLine($"cue bench: GET /v1/executions with {plan.Executions:N0} executions stored");
var pages = await ExecutionPages.RunAsync(api, receiver, postgres, scratch, plan.Executions, plan.PageRequests, plan.PageTime);

var report = Report.Build(plan, results, pages, server, total.Elapsed);
Console.WriteLine(report.Text);
if (write)
{
    var lags = results.SelectMany(r => r.Firing.Lags).Order().ToList();
    var title = $"Firing lag at {plan.FireRate} fires/s, {plan.Rounds} × {plan.FireSeconds} s ({date:yyyy-MM-dd})";
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(chartPath))!);
    await File.WriteAllTextAsync(chartPath, LagChart.Render(lags, title));
    var command = quick ? "./cue bench --quick --write" : "./cue bench";
    var doc = (await File.ReadAllTextAsync(template))
        .Replace("{{command}}", command, StringComparison.Ordinal)
        .Replace("{{date}}", date.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{{duration}}", Report.Duration(total.Elapsed), StringComparison.Ordinal)
        .Replace("{{machine}}", Report.Machine(server), StringComparison.Ordinal)
        .Replace("{{fsync}}", server.Fsync, StringComparison.Ordinal)
        .Replace("{{header}}", report.Header.TrimEnd(), StringComparison.Ordinal)
        .Replace("{{table}}", report.Table.TrimEnd(), StringComparison.Ordinal)
        .Replace("{{targets}}", report.Targets.TrimEnd(), StringComparison.Ordinal)
        .Replace("{{explain_kind}}", pages.SlowestKind, StringComparison.Ordinal)
        .Replace("{{explain}}", pages.Explain, StringComparison.Ordinal)
        .Replace("{{chart}}", Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(docPath))!, Path.GetFullPath(chartPath)).Replace('\\', '/'), StringComparison.Ordinal);
    await File.WriteAllTextAsync(docPath, doc);
    Console.Error.WriteLine($"cue bench: wrote {docPath} and {chartPath}");
}

Console.Error.WriteLine($"cue bench: done in {Report.Duration(total.Elapsed)}");
return 0;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

// 1. The raw limit: signed POSTs of a webhook-sized body from one HttpClient to the same receiver.
static async Task<double> RawPostsAsync(Uri receiverUrl, int count)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency }) { BaseAddress = receiverUrl };
    var secret = Encoding.UTF8.GetBytes("whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
    var next = -1;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
    {
        while (Interlocked.Increment(ref next) < count)
        {
            // signed per request like a delivery attempt: canonical body, fresh timestamp, HMAC-SHA256
            var body = Encoding.ASCII.GetBytes(
                $"{{\"attempt\": 1, \"cue_id\": \"cue_bench\", \"execution_id\": \"{Guid.NewGuid()}\", \"name\": \"raw\", \"payload\": {{}}, \"scheduled_for\": \"2026-01-01T00:00:00.000Z\"}}");
            var timestamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            var signature = HMACSHA256.HashData(secret, (byte[])[.. Encoding.ASCII.GetBytes(timestamp + "."), .. body]);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/raw") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add("X-Cue-Signature", "v1=" + Convert.ToHexStringLower(signature));
            request.Headers.Add("X-Cue-Timestamp", timestamp);
            using var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }
    }));
    return count / watch.Elapsed.TotalSeconds;
}

// 2. POST /v1/cues: once cues a day ahead (they never fire in the run), then bulk-deleted.
static async Task<CreateResult> CreatesAsync(ApiClient api, string key, Uri receiverUrl, int count, int round, int inFlight = Concurrency, string name = "bench-api")
{
    var at = Wire(TimeProvider.System.GetUtcNow().AddDays(1));
    var latencies = new double[count];
    var ids = new string?[count];
    var failures = 0;
    var next = -1;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            var started = Stopwatch.GetTimestamp();
            var (status, json) = await api.CreateOnceAsync(key, $"{name}-{round}-{i}", at, new Uri(receiverUrl, "/api"));
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (status == 201)
            {
                ids[i] = json.GetProperty("id").GetString();
            }
            else
            {
                Interlocked.Increment(ref failures);
            }
        }
    }));
    var perSecond = (count - failures) / watch.Elapsed.TotalSeconds;
    foreach (var chunk in ids.OfType<string>().Chunk(100))
    {
        await api.BulkDeleteAsync(key, chunk);
    }

    var sorted = latencies.Order().ToList();
    return new CreateResult(perSecond, Stats.Percentile(sorted, 50), Stats.Percentile(sorted, 99), failures);
}

// 3. Firing lag: once cues due at a steady rate, each created 10 s (at least 5 s) before it is due.
static async Task<FireResult> FiringAsync(ApiClient api, string key, Receiver receiver, Plan plan, int round)
{
    var lead = TimeSpan.FromSeconds(10);
    var count = plan.FireRate * plan.FireSeconds;
    var spacing = TimeSpan.FromSeconds(1.0 / plan.FireRate);
    var now = TimeProvider.System.GetUtcNow();
    var first = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero) + lead + TimeSpan.FromSeconds(1);
    var expected = new System.Collections.Concurrent.ConcurrentBag<(string ScheduledFor, DateTimeOffset Due)>();
    var late = 0;
    var failures = 0;
    using var gate = new SemaphoreSlim(Concurrency);
    var pending = new List<Task>(count);
    for (var i = 0; i < count; i++)
    {
        var due = first + spacing * i;
        var wait = due - lead - TimeProvider.System.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        await gate.WaitAsync();
        var n = i;
        pending.Add(Task.Run(async () =>
        {
            try
            {
                var (status, _) = await api.CreateOnceAsync(key, $"bench-fire-{round}-{n}", Wire(due), new Uri(receiver.Url, "/fire"));
                if (status != 201)
                {
                    Interlocked.Increment(ref failures);
                    return;
                }

                if (due - TimeProvider.System.GetUtcNow() < TimeSpan.FromSeconds(5))
                {
                    Interlocked.Increment(ref late);
                }

                expected.Add((Wire(due), due));
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    await Task.WhenAll(pending);
    var deadline = first + spacing * (count - 1) + plan.Grace;
    while (TimeProvider.System.GetUtcNow() < deadline && !expected.All(e => receiver.ByScheduledFor.ContainsKey(e.ScheduledFor)))
    {
        await Task.Delay(250);
    }

    var lags = expected
        .Where(e => receiver.ByScheduledFor.ContainsKey(e.ScheduledFor))
        .Select(e => (receiver.ByScheduledFor[e.ScheduledFor] - e.Due).TotalMilliseconds)
        .Order()
        .ToList();
    return new FireResult(
        Stats.Percentile(lags, 50), Stats.Percentile(lags, 90), Stats.Percentile(lags, 99), lags.Count > 0 ? lags[^1] : double.NaN,
        lags.Count, count, late, failures, lags.Count / plan.FireSeconds, lags);
}

static string Wire(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);

internal sealed record Plan(
    int Rounds, int HeavyRounds, int RawPosts, int Creates, int WarmUp, int FireRate, int FireSeconds, TimeSpan Grace,
    int CommitSeconds, int CommitConnections, int QuartzJobs, int Burst, TimeSpan BurstTimeout,
    int Executions, int PageRequests, TimeSpan PageTime);

internal sealed record ServerInfo(string Version, string Fsync, string SynchronousCommit);

internal sealed record CreateResult(double PerSecond, double P50, double P99, int Failures);

internal sealed record FireResult(
    double P50, double P90, double P99, double Max, int Delivered, int Expected, int Late, int CreateFailures, double DeliveredPerSecond,
    IReadOnlyList<double> Lags);

internal sealed record Round(
    double RawPostsPerSecond, double Commits1PerSecond, double CommitsNPerSecond, CreateResult Creates, CreateResult CreatesFew, FireResult Firing,
    QuartzResult? Quartz, BurstResult? Burst);
