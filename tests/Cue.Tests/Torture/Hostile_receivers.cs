using System.Globalization;
using System.Text;
using System.Text.Json;
using Cue.Contracts;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Torture;

/// <summary>
/// Issue 8, scenario 3: receivers that hang, drip, flood, redirect, reset or push back with <c>Retry-After</c>.
/// Each attempt is classified as contract §9.5 says and ends within its timeout plus the bounded body read;
/// the delivery worker's memory does not grow with what the receivers send; and while the hostile receivers
/// hold their attempts, cues due at a well-behaved receiver are all delivered, none held up behind them.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("Torture")]
public sealed class Hostile_receivers
{
    /// <summary>The hostile cues' <c>delivery.timeout_seconds</c>.</summary>
    private const int TimeoutSeconds = 6;

    /// <summary>What the worker may take beyond the timeout: the body read after a status in time (5 s in WebhookSender) and scheduling.</summary>
    private static readonly TimeSpan BodyAllowance = TimeSpan.FromSeconds(5);
    /// <summary>Generous: the test machine runs other builds, and every hanging attempt times out at the same instant.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

    /// <summary>The Retry-After cues: two attempts, backoff 1 then 6 "minutes" of 1 s, so Retry-After is honoured up to 6 s.</summary>
    private static readonly int[] RetryBackoff = [1, 6];

    private static readonly Hostility[] RetryAfterKinds =
        [Hostility.TooManyRetryAfterSeconds, Hostility.UnavailableRetryAfterDate, Hostility.TooManyRetryAfterHuge, Hostility.UnavailableRetryAfterGarbage];

    [Test]
    public async Task Each_is_classified_bounded_in_time_and_memory_and_stalls_no_delivery_to_a_well_behaved_receiver()
    {
        var copies = TortureScale.Full ? 3 : 1;
        // More hanging attempts at once than the 128 slots the worker once had: they must not stall the rest.
        var hangs = TortureScale.Full ? 200 : 160;
        var wellBehavedCount = TortureScale.Full ? 60 : 20;
        var window = TimeSpan.FromSeconds(TortureScale.Full ? 20 : 10);

        var stack = await CueStack.SharedAsync();
        using var api = new CueApiClient(stack.Api.BaseAddress);
        var account = await api.RegisterAsync("test");
        await using var good = await WebhookReceiver.StartAsync();
        await using var neverReached = await WebhookReceiver.StartAsync();
        await using var hostile = HostileReceiver.Start(neverReached.Url);

        // Hostile cues wait a day; they are fired together when the window opens.
        var hostileCues = new List<(Hostility Kind, string CueId)>();
        foreach (var kind in Enum.GetValues<Hostility>())
        {
            for (var i = 0; i < (kind == Hostility.Hang ? hangs : copies); i++)
            {
                var retry = RetryAfterKinds.Contains(kind) ? (object)new { max_attempts = 2, backoff_minutes = RetryBackoff } : new { max_attempts = 1 };
                hostileCues.Add((kind, await CreateAsync(api, account, $"hostile-{kind}-{i}", hostile.Url(kind), DateTimeOffset.UtcNow.AddDays(1), retry)));
            }
        }

        var start = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5);
        var step = window / wellBehavedCount;
        var wellBehaved = new Dictionary<string, DateTimeOffset>();
        await Parallel.ForEachAsync(Enumerable.Range(0, wellBehavedCount), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            var at = Timestamps.TruncateToMilliseconds(start + step * (i + 1));
            var id = await CreateAsync(api, account, $"polite-{i:D3}", good.Url, at, new { max_attempts = 1 });
            lock (wellBehaved)
            {
                wellBehaved[id] = at;
            }
        });
        Assert.That(DateTimeOffset.UtcNow, Is.LessThan(start), "the cues took longer to create than the lead");

        await Task.Delay(start - DateTimeOffset.UtcNow);
        var pid = stack.Delivery.ProcessId ?? throw new InvalidOperationException("the delivery worker is not running");
        var rssBefore = ResidentBytes(pid);
        var fired = new List<(Hostility Kind, string ExecutionId)>();
        await Parallel.ForEachAsync(hostileCues, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (cue, _) =>
        {
            var reply = await api.PostAsync($"/v1/cues/{cue.CueId}/fire", account.ApiKey, new { });
            Assert.That(reply.Status, Is.EqualTo(200), reply.Json.ToString());
            lock (fired)
            {
                fired.Add((cue.Kind, reply.Json.GetProperty("id").GetString()!));
            }
        });

        // The well-behaved cues come due while the hostile attempts hang, drip and flood.
        var deadline = DateTime.UtcNow + window + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && Delivered(good, wellBehaved).Count < wellBehaved.Count)
        {
            await Task.Delay(250);
        }

        var executions = new Dictionary<string, JsonElement>();
        foreach (var (_, id) in fired)
        {
            executions[id] = await api.PollAsync($"/v1/executions/{id}", account.ApiKey,
                e => e.GetProperty("status").GetString() is "success" or "failed", TimeSpan.FromSeconds(60));
        }

        // Whatever the worker buffered for the floods is back or collectable by now: read its memory after them.
        var rssAfter = ResidentBytes(pid);

        var problems = new List<string>();
        var longest = new Dictionary<Hostility, TimeSpan>();
        foreach (var (kind, id) in fired)
        {
            var attempts = (await api.GetAsync($"/v1/executions/{id}/attempts", account.ApiKey)).Json.GetProperty("attempts").EnumerateArray().ToList();
            var found = Check(kind, executions[id], attempts);
            problems.AddRange(found.Select(p => $"{kind} ({id}): {p}"));
            foreach (var attempt in attempts.Where(a => a.GetProperty("duration_ms").ValueKind == JsonValueKind.Number))
            {
                var took = TimeSpan.FromMilliseconds(attempt.GetProperty("duration_ms").GetInt64());
                longest[kind] = took > longest.GetValueOrDefault(kind) ? took : longest.GetValueOrDefault(kind);
            }
        }

        var delivered = Delivered(good, wellBehaved);
        var lags = good.Received
            .Where(r => wellBehaved.ContainsKey(r.Header("X-Cue-Cue-Id")))
            .Select(r => r.ReceivedAt - wellBehaved[r.Header("X-Cue-Cue-Id")])
            .ToList();
        var maxLag = lags.Count == 0 ? TimeSpan.Zero : lags.Max();
        var rssGrowth = rssAfter - rssBefore;
        var flooded = hostile.Requests.Where(r => r.Hostility is Hostility.HugeBody or Hostility.EndlessChunked).Sum(r => r.BytesWritten);
        var slowest = longest.MaxBy(l => l.Value);
        var notes = string.Create(CultureInfo.InvariantCulture,
            $"{fired.Count} hostile executions ({hangs} hanging, {Enum.GetValues<Hostility>().Length - 1} other kinds x{copies}), {wellBehaved.Count} well-behaved; " +
            $"well-behaved max lag {maxLag.TotalSeconds:0.00} s; delivery RSS {rssBefore / 1048576} -> {rssAfter / 1048576} MB " +
            $"while receivers offered {flooded / 1048576} MB; longest attempt {slowest.Value.TotalSeconds:0.0} s ({slowest.Key}); misclassified {problems.Count}");
        TortureReport.Add(new TortureRow("hostile receivers (shared stack)", wellBehaved.Count + fired.Count, delivered.Count + fired.Count(f => executions[f.ExecutionId].GetProperty("status").GetString() == "success"),
            wellBehaved.Count - delivered.Count, 0, 0, problems.Count, 0, notes));
        if (problems.Count > 0)
        {
            TestContext.Progress.WriteLine(string.Join('\n', problems));
        }

        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty, "attempts not classified as contract §9.5 says");
            Assert.That(delivered, Has.Count.EqualTo(wellBehaved.Count), "well-behaved cues not delivered\n" + stack.Logs());
            Assert.That(maxLag, Is.LessThan(TimeSpan.FromSeconds(TimeoutSeconds)), "a well-behaved delivery waited behind a hostile one");
            Assert.That(rssGrowth, Is.LessThan(100L * 1024 * 1024), "the delivery worker's memory grew with the receivers' floods");
            Assert.That(neverReached.Received, Is.Empty, "a redirect was followed");
            Assert.That(hostile.Requests.Count(r => r.Hostility == Hostility.ResetBeforeRequest), Is.GreaterThanOrEqualTo(copies));
        });
    }

    /// <summary>What contract §9.5 says of each kind; returns the discrepancies.</summary>
    private static List<string> Check(Hostility kind, JsonElement execution, List<JsonElement> attempts)
    {
        var problems = new List<string>();
        var timeout = TimeSpan.FromSeconds(TimeoutSeconds);
        void Expect(bool condition, string what)
        {
            if (!condition)
            {
                problems.Add(what);
            }
        }

        var status = execution.GetProperty("status").GetString();
        var expectedAttempts = RetryAfterKinds.Contains(kind) ? 2 : 1;
        Expect(attempts.Count == expectedAttempts, $"{attempts.Count} attempts, expected {expectedAttempts}");
        if (attempts.Count == 0)
        {
            return problems;
        }

        foreach (var attempt in attempts)
        {
            var took = attempt.GetProperty("duration_ms").ValueKind == JsonValueKind.Number
                ? TimeSpan.FromMilliseconds(attempt.GetProperty("duration_ms").GetInt64())
                : TimeSpan.MaxValue;
            Expect(took <= timeout + BodyAllowance + Margin, $"attempt took {took}");
            var body = attempt.GetProperty("response_body");
            Expect(body.ValueKind == JsonValueKind.Null || Encoding.UTF8.GetByteCount(body.GetString()!) <= 2048, "response_body over 2,048 bytes");
        }

        var first = attempts[0];
        var result = first.GetProperty("result").GetString();
        var http = first.GetProperty("http_status");
        var error = first.GetProperty("error_message");
        var firstTook = TimeSpan.FromMilliseconds(first.GetProperty("duration_ms").GetInt64());
        switch (kind)
        {
            case Hostility.Hang or Hostility.DripHeaders:
                Expect(status == "failed" && result == "retryable_failure" && http.ValueKind == JsonValueKind.Null, $"{status}/{result}/{http}");
                Expect(error.GetString()?.Contains("Timed out", StringComparison.Ordinal) == true, $"error_message {error}");
                Expect(firstTook >= timeout - TimeSpan.FromMilliseconds(100) && firstTook <= timeout + Margin, $"a timeout that took {firstTook}");
                break;
            case Hostility.DripBody:
                // The status and headers came in time: a success, whatever the body does after them.
                Expect(status == "success" && result == "success" && http.GetInt32() == 200, $"{status}/{result}/{http}");
                break;
            case Hostility.HugeBody or Hostility.EndlessChunked:
                Expect(status == "success" && result == "success" && http.GetInt32() == 200, $"{status}/{result}/{http}");
                var snippet = first.GetProperty("response_body").GetString() ?? "";
                var fill = kind == Hostility.HugeBody ? 'h' : 'c';
                Expect(snippet.Length == 2048 && snippet.All(c => c == fill), $"response_body of {snippet.Length} chars, expected the first 2,048 bytes");
                break;
            case Hostility.Redirect301 or Hostility.Redirect302 or Hostility.Redirect307:
                var code = int.Parse(kind.ToString()[^3..], CultureInfo.InvariantCulture);
                Expect(status == "failed" && result == "retryable_failure" && http.ValueKind == JsonValueKind.Number && http.GetInt32() == code, $"{status}/{result}/{http}");
                break;
            case Hostility.ResetBeforeRequest or Hostility.ResetAfterRequest:
                Expect(status == "failed" && result == "retryable_failure" && http.ValueKind == JsonValueKind.Null, $"{status}/{result}/{http}");
                Expect(error.ValueKind == JsonValueKind.String && error.GetString()!.Length > 0, "no error_message");
                Expect(firstTook < Margin, $"a reset that took {firstTook}");
                break;
            default:
                var expectedStatus = kind is Hostility.TooManyRetryAfterSeconds or Hostility.TooManyRetryAfterHuge ? 429 : 503;
                Expect(status == "failed" && result == "retryable_failure" && http.GetInt32() == expectedStatus, $"{status}/{result}/{http}");
                var recorded = first.GetProperty("retry_after_seconds");
                var (low, high) = kind switch
                {
                    Hostility.TooManyRetryAfterSeconds => (3, 3),
                    // An HTTP-date 4 s ahead at whole-second precision: 3 to 4 s left when parsed, rounded up.
                    Hostility.UnavailableRetryAfterDate => (3, 4),
                    // Capped at the longest backoff step.
                    Hostility.TooManyRetryAfterHuge => (RetryBackoff.Max(), RetryBackoff.Max()),
                    _ => (0, 0),
                };
                if (kind == Hostility.UnavailableRetryAfterGarbage)
                {
                    Expect(recorded.ValueKind == JsonValueKind.Null, $"retry_after_seconds {recorded} for an unparsable value");
                }
                else
                {
                    Expect(recorded.ValueKind == JsonValueKind.Number && recorded.GetInt32() >= low && recorded.GetInt32() <= high, $"retry_after_seconds {recorded}, expected {low}..{high}");
                }

                if (attempts.Count == 2)
                {
                    var gap = DateTimeOffset.Parse(attempts[1].GetProperty("started_at").GetString()!, CultureInfo.InvariantCulture)
                        - DateTimeOffset.Parse(first.GetProperty("finished_at").GetString()!, CultureInfo.InvariantCulture);
                    var least = recorded.ValueKind == JsonValueKind.Number ? Math.Max(recorded.GetInt32() - 1, RetryBackoff[0]) : RetryBackoff[0];
                    Expect(gap >= TimeSpan.FromSeconds(least) - TimeSpan.FromMilliseconds(50), $"retried after {gap}, before the {least} s asked for");
                    Expect(gap <= TimeSpan.FromSeconds(RetryBackoff.Max() * 1.1) + Margin + Margin, $"retried after {gap}, past the backoff bound");
                }

                break;
        }

        return problems;
    }

    private static HashSet<string> Delivered(WebhookReceiver receiver, Dictionary<string, DateTimeOffset> due) =>
        [.. receiver.Received.Select(r => r.Header("X-Cue-Cue-Id")).Where(due.ContainsKey)];

    private static async Task<string> CreateAsync(CueApiClient api, CueApiClient.Account account, string name, Uri url, DateTimeOffset at, object retry)
    {
        var reply = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name,
            schedule = new { type = "once", at = Timestamps.ToWire(at) },
            callback = new { url = url.ToString() },
            retry,
            delivery = new { timeout_seconds = TimeoutSeconds },
        });
        Assert.That(reply.Status, Is.EqualTo(201), reply.Json.ToString());
        return reply.Json.GetProperty("id").GetString()!;
    }

    /// <summary>VmRSS of a process, from /proc (Linux), in bytes.</summary>
    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
