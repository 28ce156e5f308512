using System.Buffers.Binary;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cue.Tests.Infrastructure;

/// <summary>One span as a service exported it. Ids are lower-case hex; a root span has an empty parent.</summary>
public sealed record CollectedSpan(
    string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, string> Attributes)
{
    public const int Internal = 1;
    public const int Server = 2;
    public const int Client = 3;
    public const int Producer = 4;
    public const int Consumer = 5;

    public string Tag(string key) => Attributes.TryGetValue(key, out var value) ? value : "";

    public override string ToString() => $"{Service}/{Scope} '{Name}' kind {Kind} span {SpanId} parent {(ParentSpanId.Length == 0 ? "-" : ParentSpanId)}";
}

/// <summary>One data point of an exported metric, with its attributes.</summary>
public sealed record CollectedPoint(string Service, string Metric, IReadOnlyDictionary<string, string> Attributes);

/// <summary>One log record, with the span it was written under (empty ids outside any span).</summary>
public sealed record CollectedLog(string Service, string Category, string TraceId, string SpanId);

/// <summary>
/// An OTLP/HTTP receiver on 127.0.0.1 (Kestrel, a random port) that keeps what the service processes
/// export with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>: spans, metric points and log records.
/// The OTLP messages are decoded straight from the protobuf wire format, for the few fields the tests read.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly List<CollectedSpan> spans = [];
    private readonly List<CollectedPoint> points = [];
    private readonly List<CollectedLog> logs = [];

    private OtlpCollector(WebApplication app) => this.app = app;

    /// <summary>The base address for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (the exporters add <c>/v1/traces</c> and so on).</summary>
    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyList<CollectedSpan> Spans => Snapshot(spans);
    public IReadOnlyList<CollectedPoint> Points => Snapshot(points);
    public IReadOnlyList<CollectedLog> Logs => Snapshot(logs);

    /// <summary>The settings that point a service's exporters here, exporting every fraction of a second.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.MapPost("/v1/traces", context => ReceiveAsync(context, collector.ReadTraces));
        app.MapPost("/v1/metrics", context => ReceiveAsync(context, collector.ReadMetrics));
        app.MapPost("/v1/logs", context => ReceiveAsync(context, collector.ReadLogs));
        await app.StartAsync();
        collector.Endpoint = new Uri(app.Urls.First());
        return collector;
    }

    /// <summary>Polls until <paramref name="done"/> holds for the collected spans, or the time is up; returns the last snapshot.</summary>
    public async Task<IReadOnlyList<CollectedSpan>> WaitForSpansAsync(Func<IReadOnlyList<CollectedSpan>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var now = Spans;
            if (done(now) || DateTime.UtcNow > deadline)
            {
                return now;
            }

            await Task.Delay(100);
        }
    }

    public async Task<IReadOnlyList<CollectedPoint>> WaitForPointsAsync(Func<IReadOnlyList<CollectedPoint>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var now = Points;
            if (done(now) || DateTime.UtcNow > deadline)
            {
                return now;
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static List<T> Snapshot<T>(List<T> list)
    {
        lock (list)
        {
            return [.. list];
        }
    }

    private static async Task ReceiveAsync(HttpContext context, Action<ReadOnlyMemory<byte>> read)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        if (!string.Equals(context.Request.ContentType, "application/x-protobuf", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        read(buffer.ToArray());
        // An empty Export*ServiceResponse: everything accepted.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-protobuf";
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2 }
    // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2 }
    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6; repeated KeyValue attributes = 9 }
    private void ReadTraces(ReadOnlyMemory<byte> request)
    {
        var found = new List<CollectedSpan>();
        foreach (var (service, scope, span) in Scoped(request))
        {
            string traceId = "", spanId = "", parent = "", name = "";
            var kind = 0;
            var attributes = new Dictionary<string, string>();
            foreach (var field in Wire.Fields(span))
            {
                switch (field.Number)
                {
                    case 1: traceId = Convert.ToHexStringLower(field.Bytes.Span); break;
                    case 2: spanId = Convert.ToHexStringLower(field.Bytes.Span); break;
                    case 4: parent = Convert.ToHexStringLower(field.Bytes.Span); break;
                    case 5: name = field.Text; break;
                    case 6: kind = (int)field.Varint; break;
                    case 9: Wire.AddAttribute(attributes, field.Bytes); break;
                }
            }

            found.Add(new CollectedSpan(service, scope, traceId, spanId, parent, name, kind, attributes));
        }

        lock (spans)
        {
            spans.AddRange(found);
        }
    }

    // ExportMetricsServiceRequest / ResourceMetrics / ScopeMetrics as for spans; Metric { string name = 1; Gauge gauge = 5;
    // Sum sum = 7; Histogram histogram = 9 }, each { repeated …DataPoint data_points = 1 }; NumberDataPoint's attributes
    // are field 7, HistogramDataPoint's field 9.
    private void ReadMetrics(ReadOnlyMemory<byte> request)
    {
        var found = new List<CollectedPoint>();
        foreach (var (service, _, metric) in Scoped(request))
        {
            var name = "";
            var data = new List<(int Kind, ReadOnlyMemory<byte> Bytes)>();
            foreach (var field in Wire.Fields(metric))
            {
                if (field.Number == 1)
                {
                    name = field.Text;
                }
                else if (field.Number is 5 or 7 or 9)
                {
                    data.Add((field.Number, field.Bytes));
                }
            }

            foreach (var (kind, bytes) in data)
            {
                foreach (var point in Wire.Fields(bytes).Where(f => f.Number == 1))
                {
                    var attributes = new Dictionary<string, string>();
                    foreach (var attribute in Wire.Fields(point.Bytes).Where(f => f.Number == (kind == 9 ? 9 : 7)))
                    {
                        Wire.AddAttribute(attributes, attribute.Bytes);
                    }

                    found.Add(new CollectedPoint(service, name, attributes));
                }
            }
        }

        lock (points)
        {
            points.AddRange(found);
        }
    }

    // LogRecord { bytes trace_id = 9; bytes span_id = 10 }; the .NET exporter names the scope after the logger category.
    private void ReadLogs(ReadOnlyMemory<byte> request)
    {
        var found = new List<CollectedLog>();
        foreach (var (service, scope, record) in Scoped(request))
        {
            string traceId = "", spanId = "";
            foreach (var field in Wire.Fields(record))
            {
                if (field.Number == 9)
                {
                    traceId = Convert.ToHexStringLower(field.Bytes.Span);
                }
                else if (field.Number == 10)
                {
                    spanId = Convert.ToHexStringLower(field.Bytes.Span);
                }
            }

            found.Add(new CollectedLog(service, scope, traceId, spanId));
        }

        lock (logs)
        {
            logs.AddRange(found);
        }
    }

    /// <summary>
    /// The items of an export request with their service and scope names. All three signals nest alike:
    /// request { resource_X = 1 } → { Resource resource = 1; scope_X = 2 } → { InstrumentationScope scope = 1; items = 2 }.
    /// </summary>
    private static IEnumerable<(string Service, string Scope, ReadOnlyMemory<byte> Item)> Scoped(ReadOnlyMemory<byte> request)
    {
        foreach (var resourceItems in Wire.Fields(request).Where(f => f.Number == 1))
        {
            var service = "";
            var scopes = new List<ReadOnlyMemory<byte>>();
            foreach (var field in Wire.Fields(resourceItems.Bytes))
            {
                if (field.Number == 1)
                {
                    // Resource { repeated KeyValue attributes = 1 }
                    var attributes = new Dictionary<string, string>();
                    foreach (var attribute in Wire.Fields(field.Bytes).Where(f => f.Number == 1))
                    {
                        Wire.AddAttribute(attributes, attribute.Bytes);
                    }

                    service = attributes.GetValueOrDefault("service.name", "");
                }
                else if (field.Number == 2)
                {
                    scopes.Add(field.Bytes);
                }
            }

            foreach (var scopeItems in scopes)
            {
                var scope = "";
                var items = new List<ReadOnlyMemory<byte>>();
                foreach (var field in Wire.Fields(scopeItems))
                {
                    if (field.Number == 1)
                    {
                        // InstrumentationScope { string name = 1 }
                        scope = Wire.Fields(field.Bytes).Where(f => f.Number == 1).Select(f => f.Text).FirstOrDefault() ?? "";
                    }
                    else if (field.Number == 2)
                    {
                        items.Add(field.Bytes);
                    }
                }

                foreach (var item in items)
                {
                    yield return (service, scope, item);
                }
            }
        }
    }

    /// <summary>The protobuf wire format, read field by field (varint, 64-bit, length-delimited, 32-bit).</summary>
    private static class Wire
    {
        public readonly record struct Field(int Number, ulong Varint, ReadOnlyMemory<byte> Bytes)
        {
            public string Text => System.Text.Encoding.UTF8.GetString(Bytes.Span);
        }

        public static List<Field> Fields(ReadOnlyMemory<byte> message)
        {
            var fields = new List<Field>();
            var span = message.Span;
            var at = 0;
            while (at < span.Length)
            {
                var key = ReadVarint(span, ref at);
                var number = (int)(key >> 3);
                switch ((int)(key & 7))
                {
                    case 0:
                        fields.Add(new Field(number, ReadVarint(span, ref at), default));
                        break;
                    case 1:
                        fields.Add(new Field(number, BinaryPrimitives.ReadUInt64LittleEndian(span[at..]), message.Slice(at, 8)));
                        at += 8;
                        break;
                    case 2:
                        var length = (int)ReadVarint(span, ref at);
                        fields.Add(new Field(number, 0, message.Slice(at, length)));
                        at += length;
                        break;
                    case 5:
                        fields.Add(new Field(number, BinaryPrimitives.ReadUInt32LittleEndian(span[at..]), message.Slice(at, 4)));
                        at += 4;
                        break;
                    default:
                        throw new InvalidDataException($"Unsupported protobuf wire type {key & 7} at byte {at}.");
                }
            }

            return fields;
        }

        /// <summary>KeyValue { string key = 1; AnyValue value = 2 }; AnyValue { string 1; bool 2; int64 3; double 4 } (others as "?").</summary>
        public static void AddAttribute(Dictionary<string, string> attributes, ReadOnlyMemory<byte> keyValue)
        {
            var key = "";
            var value = "";
            foreach (var field in Fields(keyValue))
            {
                if (field.Number == 1)
                {
                    key = field.Text;
                }
                else if (field.Number == 2)
                {
                    foreach (var any in Fields(field.Bytes))
                    {
                        value = any.Number switch
                        {
                            1 => any.Text,
                            2 => any.Varint != 0 ? "true" : "false",
                            3 => ((long)any.Varint).ToString(CultureInfo.InvariantCulture),
                            4 => BitConverter.UInt64BitsToDouble(any.Varint).ToString(CultureInfo.InvariantCulture),
                            _ => "?",
                        };
                    }
                }
            }

            attributes[key] = value;
        }

        private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int at)
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = span[at++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }

            throw new InvalidDataException("A varint longer than 64 bits.");
        }
    }
}
