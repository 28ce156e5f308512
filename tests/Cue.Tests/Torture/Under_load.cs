using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Api;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Torture;

/// <summary>
/// Issue 8, scenarios 5 and 6 on a stack of their own: mixed API traffic from several accounts (creates, lists,
/// gets, patches, fires, execution lists and reads, outcome reports) while a steady stream of cues fires to a
/// receiver, and the cross-tenant matrix of <see cref="Cross_tenant_isolation"/> run round after round meanwhile.
/// One account sends more than the rate limit on purpose: its 429s are counted apart and each must carry a
/// <c>Retry-After</c>. Counted: every other answer is the status its request expects (0 errors), every fire is
/// delivered, and no round of the matrix reads or changes anything across accounts. The fire lag is recorded,
/// not asserted: the test machine's load is not the product's.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("Torture")]
public sealed class Under_load
{
    /// <summary>The rate-limit window is shrunk so the limit bites within the fast slice's seconds (same code path).</summary>
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);

    /// <summary>Requests per key per <see cref="RateWindow"/>: 40/s, above the polite accounts' rate, below the noisy one's.</summary>
    private const int RateLimit = 200;

    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(TortureScale.Full ? 60 : 15);
    private static readonly int PoliteAccounts = 4;
    private static readonly double PoliteRate = TortureScale.Full ? 30 : 20;
    private static readonly double NoisyRate = 150;

    private PrivateStack stack = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => stack = await PrivateStack.StartAsync(environment =>
    {
        environment["RateLimits__Window"] = RateWindow.ToString();
        environment["Accounts__RateLimitPerMinute"] = RateLimit.ToString(CultureInfo.InvariantCulture);
        environment["Accounts__ActiveCueLimit"] = "100000";
    });

    [OneTimeTearDown]
    public async Task StopAsync() => await PrivateStack.DisposeIfStartedAsync(stack);

    [Test]
    public async Task Mixed_traffic_from_several_accounts_gets_no_errors_but_deliberate_429s_delivers_every_fire_and_leaks_nothing_across_accounts()
    {
        await using var fires = await WebhookReceiver.StartAsync();
        await using var sink = await WebhookReceiver.StartAsync();
        await using var isolationReceiver = await WebhookReceiver.StartAsync();
        using var pair = await TenantPair.CreateAsync(stack.Api.BaseAddress, isolationReceiver, stack.Logs);
        var before = await pair.SnapshotAsync();

        var counts = new LoadCounts();
        var traffic = new List<LoadAccount>();
        for (var i = 0; i <= PoliteAccounts; i++)
        {
            traffic.Add(await LoadAccount.CreateAsync(stack.Api.BaseAddress, sink.Url, i == PoliteAccounts ? "noisy" : $"polite-{i}", i == PoliteAccounts, counts));
        }

        var plan = await FiringPlan.CreateAsync(stack, fires, new TortureScale(TortureScale.Full ? 300 : 75, Duration), lead: TimeSpan.FromSeconds(TortureScale.Full ? 15 : 8));
        await plan.AtAsync(TimeSpan.Zero);
        using var stop = new CancellationTokenSource(Duration);
        var watch = Stopwatch.StartNew();
        var isolation = IsolationRoundsAsync(pair, stop.Token);
        await Task.WhenAll(traffic.Select(t => t.RunAsync(t.Noisy ? NoisyRate : PoliteRate, t.Noisy ? 2 * RateLimit : 0, stop.Token)));
        var elapsed = watch.Elapsed;
        var (rounds, leaks) = await isolation;

        var row = await plan.CountAsync("load: mixed API traffic, 5 accounts", "", TimeSpan.FromSeconds(90), report: false);
        var lags = fires.Received
            .Where(r => plan.Due.ContainsKey(r.Header("X-Cue-Cue-Id")))
            .GroupBy(r => r.Header("X-Cue-Cue-Id"))
            .Select(g => (g.Min(r => r.ReceivedAt) - plan.Due[g.Key]).TotalMilliseconds)
            .Order()
            .ToList();

        // Anything B's calls might have set off (a delivery, a projection) has had the load's seconds to show.
        var after = await pair.SnapshotAsync();
        var changed = before.Count(b => after.GetValueOrDefault(b.Key) != b.Value);
        var strayDeliveries = isolationReceiver.Received.Count - 1;

        var statuses = string.Join(' ', counts.ByStatus.OrderBy(s => s.Key).Select(s => $"{s.Key}:{s.Value}"));
        var notes = string.Create(CultureInfo.InvariantCulture,
            $"{counts.Sent} requests in {elapsed.TotalSeconds:0} s ({counts.Sent / elapsed.TotalSeconds:0} req/s; {statuses}); " +
            $"429s {counts.Limited} (noisy account only, Retry-After on all: {counts.Limited == counts.LimitedWithRetryAfter}); errors {counts.Errors.Count}; " +
            $"fire lag p50 {Percentile(lags, 0.50):0} ms, p99 {Percentile(lags, 0.99):0} ms, max {(lags.Count == 0 ? 0 : lags[^1]):0} ms");
        TortureReport.Add(row with { Scenario = "load: mixed API traffic, 5 accounts", ServerErrors = row.ServerErrors + counts.ServerErrors, Notes = notes });
        TortureReport.Add(new TortureRow("isolation: cross-tenant matrix under load", rounds * TenantPair.Cases().Count(), 0, 0, 0, 0, leaks.Count + changed + Math.Max(0, strayDeliveries), 0,
            string.Create(CultureInfo.InvariantCulture, $"{rounds} rounds of {TenantPair.Cases().Count()} refused calls + B's lists; cross-account reads {leaks.Count}, changes to A {changed}, stray deliveries {strayDeliveries}")));
        TestContext.Progress.WriteLine(string.Join('\n', counts.Errors.Take(20).Concat(leaks.Take(20))));

        Assert.Multiple(() =>
        {
            Assert.That(counts.Errors, Is.Empty, "answers other than the expected status or a deliberate 429");
            Assert.That(counts.Limited, Is.GreaterThan(0), "the noisy account was never limited: the 429 path went unexercised");
            Assert.That(counts.LimitedWithRetryAfter, Is.EqualTo(counts.Limited), "429s without an integer Retry-After ≥ 1");
            Assert.That(counts.LimitedPolite, Is.Zero, "a polite account was limited");
            Assert.That(row.Missing, Is.Zero, "fires not delivered\n" + stack.Logs());
            Assert.That(row.BadExecutions, Is.Zero, "executions not exactly one final success per cue");
            Assert.That(rounds, Is.GreaterThan(0));
            Assert.That(leaks, Is.Empty, "B read or changed something of A's under load");
            Assert.That(changed, Is.Zero, "A's resources changed");
            Assert.That(strayDeliveries, Is.Zero, "only A's own fire may reach the isolation receiver");
        });
    }

    /// <summary>The matrix and B's lists, one round a second (so B stays inside its own rate limit), until stopped.</summary>
    private static async Task<(int Rounds, List<string> Leaks)> IsolationRoundsAsync(TenantPair pair, CancellationToken stop)
    {
        var leaks = new List<string>();
        var rounds = 0;
        while (!stop.IsCancellationRequested)
        {
            var next = Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            foreach (var (call, resource) in TenantPair.Cases())
            {
                leaks.AddRange(await pair.RefusalProblemsAsync(call, resource));
            }

            leaks.AddRange(await pair.ListProblemsAsync());
            rounds++;
            await next;
        }

        return (rounds, leaks);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>Answers counted across every account's traffic.</summary>
    private sealed class LoadCounts
    {
        private int sent;
        private int limited;
        private int limitedWithRetryAfter;
        private int limitedPolite;
        private int serverErrors;

        public ConcurrentDictionary<int, int> ByStatus { get; } = new();

        public ConcurrentQueue<string> Errors { get; } = new();

        public int Sent => sent;

        public int Limited => limited;

        public int LimitedWithRetryAfter => limitedWithRetryAfter;

        public int LimitedPolite => limitedPolite;

        public int ServerErrors => serverErrors;

        public void Count(string what, int expected, int status, HttpResponseMessage? response, bool noisy)
        {
            Interlocked.Increment(ref sent);
            ByStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
            if (status >= 500)
            {
                Interlocked.Increment(ref serverErrors);
            }

            if (status == 429)
            {
                Interlocked.Increment(ref limited);
                if (!noisy)
                {
                    Interlocked.Increment(ref limitedPolite);
                }

                var retryAfter = response?.Headers.TryGetValues("Retry-After", out var values) == true ? values.FirstOrDefault() : null;
                if (int.TryParse(retryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds >= 1)
                {
                    Interlocked.Increment(ref limitedWithRetryAfter);
                }

                if (noisy)
                {
                    return;
                }
            }

            if (status != expected)
            {
                Errors.Enqueue($"{what}: {status}, expected {expected}");
            }
        }
    }

    /// <summary>One account's traffic: a pool of its cues and executions, and the mix of requests it sends.</summary>
    private sealed class LoadAccount
    {
        private readonly HttpClient http;
        private readonly Uri sink;
        private readonly string name;
        private readonly LoadCounts counts;
        private readonly List<string> cues = [];
        private readonly ConcurrentQueue<string> unreported = new();
        private int serial;

        private LoadAccount(HttpClient http, Uri sink, string name, bool noisy, LoadCounts counts)
        {
            this.http = http;
            this.sink = sink;
            this.name = name;
            Noisy = noisy;
            this.counts = counts;
        }

        public bool Noisy { get; }

        public static async Task<LoadAccount> CreateAsync(Uri api, Uri sink, string name, bool noisy, LoadCounts counts)
        {
            using var registrar = new CueApiClient(api);
            var account = await registrar.RegisterAsync("test");
            var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.ApiKey);
            var load = new LoadAccount(http, sink, name, noisy, counts);
            for (var i = 0; i < 10; i++)
            {
                var (status, json, _) = await load.SendAsync(HttpMethod.Post, "/v1/cues", load.NewCue());
                Assert.That(status, Is.EqualTo(201), json.ToString());
                load.cues.Add(json.GetProperty("id").GetString()!);
            }

            return load;
        }

        /// <summary>
        /// Sends <paramref name="burst"/> requests at once, then one every 1/<paramref name="perSecond"/> s until
        /// <paramref name="stop"/>, never catching up after a stall: a slow machine makes a polite account slower,
        /// never burstier, so it stays inside its limit; the noisy one's burst exceeds its limit however slow.
        /// </summary>
        public async Task RunAsync(double perSecond, int burst, CancellationToken stop)
        {
            using var inFlight = new SemaphoreSlim(burst + 64);
            var pending = new List<Task>();
            var watch = Stopwatch.StartNew();
            var next = TimeSpan.Zero;
            for (var i = 0L; !stop.IsCancellationRequested; i++)
            {
                if (i >= burst)
                {
                    next = (next > watch.Elapsed ? next : watch.Elapsed) + TimeSpan.FromSeconds(1 / perSecond);
                    var due = next - watch.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, CancellationToken.None);
                    }
                }

                await inFlight.WaitAsync(CancellationToken.None);
                var n = i;
                pending.Add(Task.Run(async () =>
                {
                    try
                    {
                        await OneAsync(n);
                    }
                    finally
                    {
                        inFlight.Release();
                    }
                }, CancellationToken.None));
            }

            await Task.WhenAll(pending);
            http.Dispose();
        }

        private async Task OneAsync(long n)
        {
            string cue;
            lock (cues)
            {
                cue = cues[(int)(n % cues.Count)];
            }

            switch (n % 20)
            {
                case 0 or 1 or 2:
                    var (status, json, response) = await SendAsync(HttpMethod.Post, "/v1/cues", NewCue());
                    Count("create", 201, status, response);
                    if (status == 201)
                    {
                        lock (cues)
                        {
                            cues.Add(json.GetProperty("id").GetString()!);
                        }
                    }

                    break;
                case 3 or 4 or 5:
                    await ExpectAsync("list cues", HttpMethod.Get, "/v1/cues?limit=20", null, 200);
                    break;
                case 6 or 7 or 8:
                    await ExpectAsync("get cue", HttpMethod.Get, $"/v1/cues/{cue}", null, 200);
                    break;
                case 9 or 10:
                    await ExpectAsync("patch cue", new HttpMethod("PATCH"), $"/v1/cues/{cue}", new { description = $"load {n}" }, 200);
                    break;
                case 11 or 12:
                    var fired = await SendAsync(HttpMethod.Post, $"/v1/cues/{cue}/fire", new { payload_override = new { n } });
                    Count("fire", 200, fired.Status, fired.Response);
                    if (fired.Status == 200)
                    {
                        unreported.Enqueue(fired.Json.GetProperty("id").GetString()!);
                    }

                    break;
                case 13 or 14 or 15:
                    await ExpectAsync("list executions", HttpMethod.Get, "/v1/executions?limit=20", null, 200);
                    break;
                case 16 or 17:
                    if (unreported.TryPeek(out var execution))
                    {
                        await ExpectAsync("get execution", HttpMethod.Get, $"/v1/executions/{execution}", null, 200);
                    }
                    else
                    {
                        await ExpectAsync("usage", HttpMethod.Get, "/v1/usage", null, 200);
                    }

                    break;
                default:
                    // Each execution is reported once: a second report is a 409 by contract, not load.
                    if (unreported.TryDequeue(out var report))
                    {
                        await ExpectAsync("report outcome", HttpMethod.Post, $"/v1/executions/{report}/outcome", new { success = true, result = $"load {n}" }, 200);
                    }
                    else
                    {
                        await ExpectAsync("list cues", HttpMethod.Get, "/v1/cues?status=active&limit=5", null, 200);
                    }

                    break;
            }
        }

        private object NewCue() => new
        {
            name = $"{name}-{Interlocked.Increment(ref serial):D6}",
            schedule = new { type = "once", at = Timestamps.ToWire(DateTimeOffset.UtcNow.AddDays(1)) },
            callback = new { url = sink.ToString() },
            retry = new { max_attempts = 1 },
        };

        private async Task ExpectAsync(string what, HttpMethod method, string path, object? body, int expected)
        {
            var (status, _, response) = await SendAsync(method, path, body);
            Count(what, expected, status, response);
        }

        private void Count(string what, int expected, int status, HttpResponseMessage? response)
        {
            counts.Count($"{name} {what}", expected, status, response, Noisy);
            response?.Dispose();
        }

        /// <summary>Status 0 when nothing answered (a client timeout or a refused connection): an error too.</summary>
        private async Task<(int Status, JsonElement Json, HttpResponseMessage? Response)> SendAsync(HttpMethod method, string path, object? body)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
            }

            try
            {
                var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
                return ((int)response.StatusCode, json, response);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return (0, default, null);
            }
        }
    }
}
