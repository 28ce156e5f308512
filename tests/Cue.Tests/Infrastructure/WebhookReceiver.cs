using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cue.Tests.Infrastructure;

/// <summary>One request as the receiver saw it, stamped when its headers arrived.</summary>
public sealed record ReceivedWebhook(DateTimeOffset ReceivedAt, string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : "";
}

/// <summary>
/// A real HTTP receiver on 127.0.0.1 (Kestrel, a random port). It records every request and answers
/// from a script of status codes (the last one repeats), 200 by default.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<int> script = new();
    private readonly List<ReceivedWebhook> received = [];
    private readonly SemaphoreSlim arrived = new(0);
    private int lastStatus = 200;

    private WebhookReceiver(WebApplication app) => this.app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>The body of 2xx answers (a receiver can report an outcome in it, §9.5).</summary>
    public string SuccessBody { get; set; } = "{\"ok\": true}";

    /// <summary>How long the receiver works before it answers (the request is recorded on arrival).</summary>
    public TimeSpan AnswerAfter { get; set; } = TimeSpan.Zero;

    public IReadOnlyList<ReceivedWebhook> Received
    {
        get
        {
            lock (received)
            {
                return [.. received];
            }
        }
    }

    public static async Task<WebhookReceiver> StartAsync(params int[] statuses)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        foreach (var status in statuses)
        {
            receiver.script.Enqueue(status);
        }

        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First() + "/hook");
        return receiver;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests have arrived.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Received.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            await arrived.WaitAsync(left);
        }

        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        arrived.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var at = DateTimeOffset.UtcNow;
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        lock (received)
        {
            received.Add(new ReceivedWebhook(at, context.Request.Method, context.Request.Path, headers, buffer.ToArray()));
        }

        if (script.TryDequeue(out var status))
        {
            lastStatus = status;
        }

        context.Response.StatusCode = lastStatus;
        context.Response.ContentType = "application/json";
        arrived.Release();
        if (AnswerAfter > TimeSpan.Zero)
        {
            await Task.Delay(AnswerAfter);
        }

        await context.Response.WriteAsync(lastStatus < 300 ? SuccessBody : "{\"error\": \"scripted failure\"}");
    }
}
