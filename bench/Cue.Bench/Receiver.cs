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

    /// <summary>First arrival per <c>X-Cue-Scheduled-For</c> value, in UTC.</summary>
    public ConcurrentDictionary<string, DateTimeOffset> ByScheduledFor { get; } = new(StringComparer.Ordinal);

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
        var scheduledFor = http.Request.Headers["X-Cue-Scheduled-For"].ToString();
        if (scheduledFor.Length > 0)
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
