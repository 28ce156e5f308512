using System.Text;
using Cue.Contracts;
using Cue.Scheduler.Occurrences;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// One fire is one trace across the three processes: the spans they export over OTLP (collected in
/// memory by the test stack's <see cref="OtlpCollector"/>) form a parent/child chain from the scheduler's
/// <c>cue.fire</c> through RabbitMQ to the webhook POST, whose <c>traceparent</c> the receiver gets, and
/// on to the API's audit append.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Tracing_one_fire
{
    private const string Api = "cue-api";
    private const string Scheduler = "cue-scheduler";
    private const string Delivery = "cue-delivery";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private CueStack stack = null!;
    private CueApiClient api = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        api = new CueApiClient(stack.Api.BaseAddress);
    }

    [OneTimeTearDown]
    public void Dispose() => api.Dispose();

    [Test]
    public async Task Is_one_trace_from_the_dispatch_through_the_webhook_to_the_audit_append()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        var at = Timestamps.TruncateToMilliseconds(DateTimeOffset.UtcNow.AddSeconds(2));
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "traced-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "once", at = Timestamps.ToWire(at) },
            callback = new { url = receiver.Url.ToString() },
            payload = new { secret_looking = "not-for-spans" },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var cueId = created.Json.GetProperty("id").GetString()!;
        var executionId = ExecutionIds.ForScheduled(cueId, at).ToString("D");

        var received = await receiver.WaitForAsync(1, Patience);
        Assert.That(received, Has.Count.EqualTo(1), stack.Logs());
        var (traceId, postSpanId) = ParseTraceparent(received[0].Header("traceparent"));

        // Each service exports its batch a fraction of a second after the span ends, each on its own
        // schedule: the worker's cue.deliver (which ends after its last publish) may land after the audit append.
        // The audit append's ancestors in the API (the batch consumer's receive and process spans) end after it
        // and may be exported in a later batch: wait until its whole parent chain has arrived.
        var spans = await stack.Telemetry.WaitForSpansAsync(
            all => all.Any(s => s.Name == "cue.record_attempt" && s.Tag("cue.execution_id") == executionId && ReachesRoot(s, all))
                && all.Any(s => s.Name == "cue.deliver" && s.Tag("cue.execution_id") == executionId)
                && all.Any(s => s.Name == "cue.fire" && s.Tag("cue.id") == cueId)
                && all.Any(s => s.TraceId == traceId && s.SpanId == postSpanId),
            Patience);
        var trace = spans.Where(s => s.TraceId == traceId).ToDictionary(s => s.SpanId);
        var dump = string.Join('\n', trace.Values.Select(s => s.ToString()));

        var fire = Single(spans, "cue.fire", s => s.Tag("cue.id") == cueId);
        var deliver = Single(spans, "cue.deliver", s => s.Tag("cue.execution_id") == executionId);
        var record = Single(spans, "cue.record_attempt", s => s.Tag("cue.execution_id") == executionId);
        Assert.That(trace.TryGetValue(postSpanId, out var post), Is.True, $"the span in the receiver's traceparent was not exported in trace {traceId}:\n{dump}");

        Assert.Multiple(() =>
        {
            // The receiver's traceparent names the webhook POST of the fire's trace.
            Assert.That(fire.TraceId, Is.EqualTo(traceId), "the webhook's traceparent is not the fire's trace");
            Assert.That(fire.ParentSpanId, Is.Empty, "a scheduled fire starts its trace");
            Assert.That(fire.Service, Is.EqualTo(Scheduler));
            Assert.That(fire.Tag("cue.execution_id"), Is.EqualTo(executionId));
            Assert.That(fire.Tag("cue.trigger"), Is.EqualTo(TriggerKinds.Scheduled));
            Assert.That(fire.Tag("cue.scheduled_for"), Is.EqualTo(Timestamps.ToWire(at)));

            Assert.That(post!.Service, Is.EqualTo(Delivery));
            Assert.That(post.Kind, Is.EqualTo(CollectedSpan.Client));
            Assert.That(post.Tag("http.request.method"), Is.EqualTo("POST"));
            Assert.That(post.Tag("http.response.status_code"), Is.EqualTo("200"));
            Assert.That(post.ParentSpanId, Is.EqualTo(deliver.SpanId), "the webhook POST is not made under cue.deliver");
            // The callback URL's path (often a token) stays out of the span: origin only.
            Assert.That(post.Tag("url.full"), Is.EqualTo(receiver.Url.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped)));

            Assert.That(deliver.Service, Is.EqualTo(Delivery));
            Assert.That(deliver.Tag("cue.result"), Is.EqualTo(AttemptResults.Success));
            Assert.That(record.Service, Is.EqualTo(Api));
            Assert.That(record.Tag("cue.attempt"), Is.EqualTo("1"));
        });

        // The chain, not just the trace id: from the audit append up to the root every parent is a span
        // of this trace, and the hops between Cue's own spans are MassTransit's publish and consume spans.
        var chain = Ancestry(record, trace, dump);
        TestContext.Out.WriteLine("audit append up to the fire:\n" + string.Join('\n', chain) + "\nwebhook POST: " + post);
        Assert.That(chain[^1].SpanId, Is.EqualTo(fire.SpanId), $"the audit append does not descend from the fire:\n{dump}");
        var deliverAt = chain.FindIndex(s => s.SpanId == deliver.SpanId);
        Assert.That(deliverAt, Is.GreaterThan(0), $"the audit append does not descend from cue.deliver:\n{dump}");
        AssertBusHop(chain[1..deliverAt], from: Delivery, to: Api, dump);
        AssertBusHop(chain[(deliverAt + 1)..^1], from: Scheduler, to: Delivery, dump);

        // Logs carry the span they were written under: the worker's attempt log joins the trace.
        var logs = stack.Telemetry.Logs;
        Assert.That(logs.Any(l => l.Service == Delivery && l.TraceId == traceId && l.SpanId == deliver.SpanId), Is.True,
            "no log record of the delivery worker was exported under cue.deliver");

        // Nothing of the payload travels in any span of the fire.
        Assert.That(trace.Values.SelectMany(s => s.Attributes.Values).Any(v => v.Contains("not-for-spans", StringComparison.Ordinal)), Is.False);
    }

    [Test]
    public async Task Is_counted_in_the_fire_and_delivery_metrics()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var account = await api.RegisterAsync("test");
        var created = await api.PostAsync("/v1/cues", account.ApiKey, new
        {
            name = "metered-" + Guid.NewGuid().ToString("N")[..8],
            schedule = new { type = "recurring", cron = "0 0 1 1 *" },
            callback = new { url = receiver.Url.ToString() },
        });
        Assert.That(created.Status, Is.EqualTo(201), created.Json.ToString());
        var fired = await api.PostAsync($"/v1/cues/{created.Json.GetProperty("id").GetString()}/fire", account.ApiKey, null);
        Assert.That(fired.Status, Is.EqualTo(200), fired.Json.ToString());
        var received = await receiver.WaitForAsync(1, Patience);
        Assert.That(received, Has.Count.EqualTo(1), stack.Logs());

        // A manual fire goes through the due index like any other: its trace starts at the dispatch.
        var (traceId, _) = ParseTraceparent(received[0].Header("traceparent"));
        var spans = await stack.Telemetry.WaitForSpansAsync(all => all.Any(s => s.TraceId == traceId && s.Name == "cue.fire"), Patience);
        var fire = spans.Single(s => s.TraceId == traceId && s.Name == "cue.fire");
        Assert.That(fire.Tag("cue.trigger"), Is.EqualTo(TriggerKinds.ManualFire));

        static bool Exported(IReadOnlyList<CollectedPoint> points, string service, string metric, string? key = null, string? value = null) =>
            points.Any(p => p.Service == service && p.Metric == metric && (key is null || p.Attributes.GetValueOrDefault(key) == value));

        var points = await stack.Telemetry.WaitForPointsAsync(
            all => Exported(all, Scheduler, "cue.fires", "cue.trigger", TriggerKinds.ManualFire)
                && Exported(all, Delivery, "cue.deliveries", "cue.result", AttemptResults.Success)
                && Exported(all, Scheduler, "cue.queue.depth"),
            Patience);
        Assert.Multiple(() =>
        {
            Assert.That(Exported(points, Scheduler, "cue.fires", "cue.trigger", TriggerKinds.ManualFire), Is.True, "cue.fires{manual_fire}");
            Assert.That(Exported(points, Scheduler, "cue.fire.lag", "cue.stage", "dispatch"), Is.True, "cue.fire.lag at the dispatch");
            Assert.That(Exported(points, Scheduler, "cue.queue.depth"), Is.True, "cue.queue.depth");
            Assert.That(Exported(points, Delivery, "cue.deliveries", "cue.result", AttemptResults.Success), Is.True, "cue.deliveries{success}");
            Assert.That(Exported(points, Delivery, "cue.fire.lag", "cue.stage", "delivery"), Is.True, "cue.fire.lag at the delivery worker");
            // MassTransit's own instruments come through the same pipe.
            Assert.That(points.Any(p => p.Service == Delivery && p.Metric.StartsWith("messaging.masstransit.", StringComparison.Ordinal)), Is.True, "MassTransit metrics");
        });
    }

    private static (string TraceId, string SpanId) ParseTraceparent(string header)
    {
        // version-traceid-parentid-flags (W3C Trace Context), sampled.
        var parts = header.Split('-');
        Assert.That(parts, Has.Length.EqualTo(4), $"the webhook carried no W3C traceparent: '{header}'");
        Assert.Multiple(() =>
        {
            Assert.That(parts[0], Is.EqualTo("00"));
            Assert.That(parts[1], Does.Match("^[0-9a-f]{32}$"));
            Assert.That(parts[2], Does.Match("^[0-9a-f]{16}$"));
            Assert.That(parts[3], Is.EqualTo("01"));
        });
        return (parts[1], parts[2]);
    }

    private static CollectedSpan Single(IReadOnlyList<CollectedSpan> spans, string name, Func<CollectedSpan, bool> match)
    {
        var found = spans.Where(s => s.Name == name && match(s)).ToList();
        Assert.That(found, Has.Count.EqualTo(1), $"expected exactly one '{name}' span of this fire:\n{string.Join('\n', found)}");
        return found[0];
    }

    /// <summary>Whether every ancestor of <paramref name="span"/> up to a root is among <paramref name="all"/>.</summary>
    private static bool ReachesRoot(CollectedSpan span, IReadOnlyList<CollectedSpan> all)
    {
        var bySpanId = all.Where(s => s.TraceId == span.TraceId).GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        var current = span;
        for (var depth = 0; depth < 50 && current.ParentSpanId.Length > 0; depth++)
        {
            if (!bySpanId.TryGetValue(current.ParentSpanId, out var parent))
            {
                return false;
            }

            current = parent;
        }

        return current.ParentSpanId.Length == 0;
    }

    /// <summary>The span and its ancestors up to the root; every parent id must be a collected span of the trace.</summary>
    private static List<CollectedSpan> Ancestry(CollectedSpan span, Dictionary<string, CollectedSpan> trace, string dump)
    {
        var chain = new List<CollectedSpan> { span };
        while (chain[^1].ParentSpanId.Length > 0)
        {
            var parentId = chain[^1].ParentSpanId;
            Assert.That(trace.TryGetValue(parentId, out var parent), Is.True, $"the parent {parentId} of {chain[^1]} is not a span of the trace:\n{dump}");
            Assert.That(chain.Count, Is.LessThan(50), "a cycle in the parent chain");
            chain.Add(parent!);
        }

        return chain;
    }

    /// <summary>
    /// The spans between two of Cue's own (child first) are MassTransit's: a consume side in
    /// <paramref name="to"/> under a publish (producer) span in <paramref name="from"/>.
    /// </summary>
    private static void AssertBusHop(List<CollectedSpan> between, string from, string to, string dump)
    {
        var hop = new StringBuilder().AppendJoin('\n', between).ToString();
        Assert.Multiple(() =>
        {
            Assert.That(between, Is.Not.Empty, $"no spans between {from} and {to}:\n{dump}");
            Assert.That(between.All(s => s.Scope == "MassTransit"), Is.True, $"a hop from {from} to {to} that is not MassTransit's:\n{hop}");
            Assert.That(between.Any(s => s.Service == to && s.Kind == CollectedSpan.Consumer), Is.True, $"no consumer span in {to}:\n{hop}");
            Assert.That(between[^1].Service == from && between[^1].Kind == CollectedSpan.Producer, Is.True, $"the hop does not start at a producer span in {from}:\n{hop}");
            // Child first: once the chain leaves the consuming service it never comes back.
            Assert.That(between.SkipWhile(s => s.Service == to).All(s => s.Service == from), Is.True, $"the hop mixes services:\n{hop}");
        });
    }
}
