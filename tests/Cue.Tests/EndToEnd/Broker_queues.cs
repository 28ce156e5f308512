using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.EndToEnd;

/// <summary>
/// What an operator sees in the RabbitMQ console for the running services: every Cue queue is a durable
/// quorum queue (replicated, survives a broker restart). Read through the management API on the test vhost.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Broker_queues
{
    /// <summary>The receive endpoints of the API (audit consumers) and of Delivery.</summary>
    private static readonly string[] CueQueues = ["deliver-cue", "notify-cue-failed", "execution-audit", "occurrence-missed", "catch-up-capped"];

    [Test]
    public async Task Every_cue_queue_is_durable_and_quorum()
    {
        await CueStack.SharedAsync();
        var (_, rabbit) = await TestServices.GetAsync();
        var amqp = new Uri(rabbit);
        var vhost = Uri.UnescapeDataString(amqp.AbsolutePath.TrimStart('/'));
        var user = amqp.UserInfo.Split(':', 2);
        var management = new Uri(Environment.GetEnvironmentVariable("CUE_RABBITMQ_MANAGEMENT_URL") is { Length: > 0 } url ? url : $"http://{amqp.Host}:15672");

        using var http = new HttpClient { BaseAddress = management };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.UnescapeDataString(user[0])}:{Uri.UnescapeDataString(user[1])}")));
        var escapedVhost = Uri.EscapeDataString(vhost);

        // A message Delivery cannot read lands in deliver-cue_error, one of no type it consumes in deliver-cue_skipped:
        // those queues are created on first use, and they must be as durable as the endpoint's own.
        await PublishAsync(http, escapedVhost, "this is not a MassTransit envelope");
        await PublishAsync(http, escapedVhost, JsonSerializer.Serialize(new
        {
            messageId = Guid.NewGuid(),
            messageType = new[] { "urn:message:Cue.Tests:NobodyConsumesThis" },
            message = new { },
        }));

        List<JsonElement> queues = [];
        var body = "";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        do
        {
            using var response = await http.GetAsync(new Uri($"/api/queues/{escapedVhost}?columns=name,durable,auto_delete,exclusive,arguments", UriKind.Relative));
            body = await response.Content.ReadAsStringAsync();
            Assert.That((int)response.StatusCode, Is.EqualTo(200), body);
            queues = [.. JsonDocument.Parse(body).RootElement.EnumerateArray()];
            if (queues.Select(q => q.GetProperty("name").GetString()).Intersect(["deliver-cue_error", "deliver-cue_skipped"]).Count() == 2)
            {
                break;
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);

        Assert.That(queues.Select(q => q.GetProperty("name").GetString()), Is.SupersetOf(CueQueues.Append("deliver-cue_error").Append("deliver-cue_skipped")), body);
        Assert.Multiple(() =>
        {
            // Besides the endpoints, MassTransit's _error and _skipped queues once something landed there.
            // Each bus instance's own reply queue is temporary (auto-delete) by design and holds no Cue work.
            foreach (var queue in queues.Where(q => !q.GetProperty("auto_delete").GetBoolean()))
            {
                var name = queue.GetProperty("name").GetString();
                Assert.That(queue.GetProperty("durable").GetBoolean(), Is.True, $"{name} is durable");
                Assert.That(queue.GetProperty("arguments").TryGetProperty("x-queue-type", out var type) ? type.GetString() : null,
                    Is.EqualTo("quorum"), $"{name} is a quorum queue");
            }

            foreach (var queue in queues.Where(q => q.GetProperty("auto_delete").GetBoolean()))
            {
                Assert.That(queue.GetProperty("name").GetString(), Does.Contain("_bus_"), "only MassTransit's per-instance bus queues are temporary");
            }
        });
    }

    private static async Task PublishAsync(HttpClient http, string escapedVhost, string payload)
    {
        // The default exchange routes by queue name straight to deliver-cue.
        using var response = await http.PostAsJsonAsync(new Uri($"/api/exchanges/{escapedVhost}/amq.default/publish", UriKind.Relative), new
        {
            properties = new { content_type = "application/vnd.masstransit+json", delivery_mode = 2 },
            routing_key = "deliver-cue",
            payload,
            payload_encoding = "string",
        });
        var reply = await response.Content.ReadAsStringAsync();
        Assert.That(reply, Does.Contain("\"routed\":true"), reply);
    }
}
