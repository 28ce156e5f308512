using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cue.Bench;

/// <summary>
/// A Kestrel server on 127.0.0.1 that notes when each request reached it. The time is taken as the
/// first statement of the request handler: Kestrel has parsed the request line and headers by then,
/// which is as close to the first byte as it lets an application get; the body is not awaited first.
/// </summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication app;

    private Receiver(WebApplication app) => this.app = app;

    /// <summary>First arrival per <c>X-Cue-Scheduled-For</c> value on <c>/fire</c>, in UTC.</summary>
    public ConcurrentDictionary<string, DateTimeOffset> ByScheduledFor { get; } = new(StringComparer.Ordinal);

    /// <summary>Every arrival on a <c>/burst/…</c> path: the path, <c>X-Cue-Execution-Id</c> and the time, in UTC.</summary>
    public ConcurrentQueue<(string Path, string ExecutionId, DateTimeOffset At)> BurstArrivals { get; } = new();

    public long Requests => Interlocked.Read(ref requests);

    private long requests;

    public Uri Url => new(app.Urls.First());

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var at = TimeProvider.System.GetUtcNow();
        Interlocked.Increment(ref requests);
        var path = http.Request.Path.Value ?? "";
        if (path.StartsWith("/burst/", StringComparison.Ordinal))
        {
            BurstArrivals.Enqueue((path, http.Request.Headers["X-Cue-Execution-Id"].ToString(), at));
        }
        else if (path == "/fire" && http.Request.Headers["X-Cue-Scheduled-For"].ToString() is { Length: > 0 } scheduledFor)
        {
            ByScheduledFor.TryAdd(scheduledFor, at);
        }

        // drain the body so the connection can be reused, then answer like a healthy receiver
        await http.Request.Body.CopyToAsync(Stream.Null);
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("{}");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
