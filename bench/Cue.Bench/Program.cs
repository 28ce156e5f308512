using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cue.Bench;

// ./cue bench [--quick]: raw limits and Cue's figures measured in the same run, printed as one table.
// Benchmarks are not tests: nothing here runs in ./cue test.
var quick = args.Contains("--quick");
var apiUrl = new Uri(Option("--api") ?? Environment.GetEnvironmentVariable("CUE_API_URL") ?? "http://127.0.0.1:5080");
var fsync = Option("--fsync") ?? "unknown";
var plan = quick
    ? new Plan(Rounds: 1, RawPosts: 5_000, Creates: 500, FireRate: 50, FireSeconds: 20, Grace: TimeSpan.FromSeconds(15))
    : new Plan(Rounds: 3, RawPosts: 20_000, Creates: 2_000, FireRate: 100, FireSeconds: 60, Grace: TimeSpan.FromSeconds(30));
const int Concurrency = 64;

await using var receiver = await Receiver.StartAsync();
using var api = new ApiClient(apiUrl);
var account = await api.RegisterAsync();
var me = await api.MeAsync(account.ApiKey);
var perMinute = me.GetProperty("rate_limit_per_minute").GetInt32();
var cueLimit = me.GetProperty("active_cue_limit").GetInt32();
var needed = plan.Creates + plan.FireRate * plan.FireSeconds;
if (perMinute < needed * 2 || cueLimit < needed)
{
    Console.Error.WriteLine(
        $"cue bench: the running API allows {perMinute} requests/min and {cueLimit} active cues per account; the bench needs " +
        $"more than {needed * 2} and {needed}. Stop it (./cue down) and let ./cue bench start it with raised limits.");
    return 1;
}

var results = new List<Round>();
for (var round = 1; round <= plan.Rounds; round++)
{
    Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: raw signed POSTs");
    var raw = await RawPostsAsync(receiver.Url, plan.RawPosts);
    Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: POST /v1/cues x {plan.Creates}");
    var creates = await CreatesAsync(api, account.ApiKey, receiver.Url, plan.Creates, round);
    Console.Error.WriteLine($"cue bench: round {round}/{plan.Rounds}: firing {plan.FireRate}/s for {plan.FireSeconds} s");
    var firing = await FiringAsync(api, account.ApiKey, receiver, plan, round);
    results.Add(new Round(raw, creates, firing));
}

PrintTable(plan, results, fsync);
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
static async Task<CreateResult> CreatesAsync(ApiClient api, string key, Uri receiverUrl, int count, int round)
{
    var at = Wire(TimeProvider.System.GetUtcNow().AddDays(1));
    var latencies = new double[count];
    var ids = new string?[count];
    var failures = 0;
    var next = -1;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            var started = Stopwatch.GetTimestamp();
            var (status, json) = await api.CreateOnceAsync(key, $"bench-api-{round}-{i}", at, new Uri(receiverUrl, "/api"));
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
        lags.Count, count, late, failures, lags.Count / plan.FireSeconds);
}

static string Wire(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);

static void PrintTable(Plan plan, List<Round> rounds, string fsync)
{
    var cpu = File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
        : null;
    var rawMedian = Stats.Median(rounds.Select(r => r.RawPostsPerSecond).ToList());
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores (nproc), {cpu ?? "unknown CPU"}, {Environment.OSVersion}, .NET {Environment.Version}");
    Console.WriteLine($"PostgreSQL fsync: {fsync}");
    Console.WriteLine(
        $"plan: {plan.Rounds} round(s); raw {plan.RawPosts} POSTs; {plan.Creates} creates; firing {plan.FireRate}/s for {plan.FireSeconds} s " +
        $"(grace {plan.Grace.TotalSeconds:0} s); concurrency {Concurrency}");
    Console.WriteLine();
    var rows = new List<string[]>();
    rows.Add(["figure", "median", "min–max", "target", "ratio to raw limit"]);
    void Row(string figure, Func<Round, double> value, string format, string target, bool ratio = false)
    {
        var values = rounds.Select(value).ToList();
        var median = Stats.Median(values);
        rows.Add([
            figure,
            median.ToString(format, CultureInfo.InvariantCulture),
            $"{values.Min().ToString(format, CultureInfo.InvariantCulture)}–{values.Max().ToString(format, CultureInfo.InvariantCulture)}",
            target,
            ratio ? (median / rawMedian).ToString("0.000", CultureInfo.InvariantCulture) : "",
        ]);
    }

    Row("raw: signed HttpClient POSTs/s to the receiver", r => r.RawPostsPerSecond, "0", "(limit)", ratio: true);
    Row("POST /v1/cues creates/s", r => r.Creates.PerSecond, "0", "≥ 1000", ratio: true);
    Row("POST /v1/cues latency p50 ms", r => r.Creates.P50, "0.0", "");
    Row("POST /v1/cues latency p99 ms", r => r.Creates.P99, "0.0", "≤ 50");
    Row("POST /v1/cues non-201 answers", r => r.Creates.Failures, "0", "0");
    Row($"firing lag p50 ms ({plan.FireRate}/s steady)", r => r.Firing.P50, "0.0", "≤ 50");
    Row("firing lag p90 ms", r => r.Firing.P90, "0.0", "");
    Row("firing lag p99 ms", r => r.Firing.P99, "0.0", "≤ 250");
    Row("firing lag max ms", r => r.Firing.Max, "0.0", "");
    Row("fires delivered/s (steady window)", r => r.Firing.DeliveredPerSecond, "0.0", $"{plan.FireRate}", ratio: true);
    Row("fires delivered / expected", r => (double)r.Firing.Delivered / r.Firing.Expected, "0.0000", "1");
    Row("firing cues created < 5 s before due", r => r.Firing.Late, "0", "0");
    Row("firing cue creates not 201", r => r.Firing.CreateFailures, "0", "0");

    var widths = Enumerable.Range(0, 5).Select(c => rows.Max(r => r[c].Length)).ToArray();
    foreach (var (row, index) in rows.Select((r, i) => (r, i)))
    {
        Console.WriteLine(string.Join(" | ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
        if (index == 0)
        {
            Console.WriteLine(string.Join("-|-", widths.Select(w => new string('-', w))));
        }
    }

    Console.WriteLine();
    Console.WriteLine("Lag = receive time (first statement of the Kestrel request handler) − X-Cue-Scheduled-For; the");
    Console.WriteLine("API cues are bulk-deleted after each round; the firing cues complete by firing.");
}

internal sealed record Plan(int Rounds, int RawPosts, int Creates, int FireRate, int FireSeconds, TimeSpan Grace);

internal sealed record CreateResult(double PerSecond, double P50, double P99, int Failures);

internal sealed record FireResult(double P50, double P90, double P99, double Max, int Delivered, int Expected, int Late, int CreateFailures, double DeliveredPerSecond);

internal sealed record Round(double RawPostsPerSecond, CreateResult Creates, FireResult Firing);
