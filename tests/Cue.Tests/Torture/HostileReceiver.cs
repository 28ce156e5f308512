using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cue.Tests.Torture;

/// <summary>How a <see cref="HostileReceiver"/> endpoint misbehaves; the URL path is the name in kebab case.</summary>
public enum Hostility
{
    /// <summary>Reads the request and never answers.</summary>
    Hang,
    /// <summary>Writes the status line and headers one byte per second.</summary>
    DripHeaders,
    /// <summary>200 and its headers at once, then the body one byte per second.</summary>
    DripBody,
    /// <summary>200 with a 50 MB body, streamed as fast as the client takes it.</summary>
    HugeBody,
    /// <summary>200 with a chunked body that never ends.</summary>
    EndlessChunked,
    Redirect301,
    Redirect302,
    Redirect307,
    /// <summary>Accepts the connection and resets it (RST: linger 0) before reading anything.</summary>
    ResetBeforeRequest,
    /// <summary>Reads the whole request, then resets the connection instead of answering.</summary>
    ResetAfterRequest,
    /// <summary>429 with <c>Retry-After: 3</c>.</summary>
    TooManyRetryAfterSeconds,
    /// <summary>503 with an HTTP-date <c>Retry-After</c> 4 s ahead.</summary>
    UnavailableRetryAfterDate,
    /// <summary>429 with <c>Retry-After: 3600</c>, beyond every backoff bound.</summary>
    TooManyRetryAfterHuge,
    /// <summary>503 with an unparsable <c>Retry-After</c>.</summary>
    UnavailableRetryAfterGarbage,
}

/// <summary>One connection as a <see cref="HostileReceiver"/> saw it.</summary>
public sealed record HostileRequest(Hostility Hostility, DateTimeOffset At, string ExecutionId, string Attempt)
{
    /// <summary>Response bytes the receiver managed to write before the client went away.</summary>
    public long BytesWritten { get; set; }
}

/// <summary>
/// A receiver that misbehaves on purpose, on raw sockets where Kestrel would not (a half-written status
/// line, a reset, a body that never ends). Every answer says <c>Connection: close</c>, so each attempt
/// arrives on a connection of its own. Reset-before-request has a port of its own: it cannot read a path.
/// </summary>
public sealed class HostileReceiver : IAsyncDisposable
{
    public const long HugeBodyBytes = 50L * 1024 * 1024;

    private static readonly string[] Names = Enum.GetNames<Hostility>();
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly TcpListener resetter = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentBag<HostileRequest> requests = [];
    private readonly ConcurrentBag<Task> connections = [];
    private readonly List<Task> loops = [];

    private HostileReceiver()
    {
    }

    /// <summary>Where redirects point: a receiver that must never be reached.</summary>
    public Uri RedirectTarget { get; private init; } = null!;

    public IReadOnlyList<HostileRequest> Requests => [.. requests];

    public static HostileReceiver Start(Uri redirectTarget)
    {
        var receiver = new HostileReceiver { RedirectTarget = redirectTarget };
        receiver.listener.Start(512);
        receiver.resetter.Start(512);
        receiver.loops.Add(Task.Run(() => receiver.AcceptAsync(receiver.listener, receiver.ServeAsync)));
        receiver.loops.Add(Task.Run(() => receiver.AcceptAsync(receiver.resetter, receiver.ResetAsync)));
        return receiver;
    }

    public Uri Url(Hostility hostility)
    {
        var port = ((IPEndPoint)(hostility == Hostility.ResetBeforeRequest ? resetter : listener).LocalEndpoint).Port;
        return new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/{Kebab(hostility)}");
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        resetter.Stop();
        await Task.WhenAll(loops.Concat(connections)).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        stop.Dispose();
    }

    private static string Kebab(Hostility hostility) =>
        string.Concat(hostility.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private async Task AcceptAsync(TcpListener socket, Func<Socket, Task> serve)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await socket.AcceptSocketAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            connections.Add(Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await serve(client);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                    {
                        // The client gave up (its timeout) or the receiver is stopping: both are expected here.
                    }
                }
            }));
        }
    }

    private Task ResetAsync(Socket client)
    {
        requests.Add(new HostileRequest(Hostility.ResetBeforeRequest, DateTimeOffset.UtcNow, "", ""));
        Reset(client);
        return Task.CompletedTask;
    }

    private static void Reset(Socket client)
    {
        client.LingerState = new LingerOption(true, 0);
        client.Close();
    }

    private async Task ServeAsync(Socket client)
    {
        await using var stream = new NetworkStream(client, ownsSocket: false);
        var (path, headers) = await ReadRequestAsync(stream);
        var hostility = Names.Select(Enum.Parse<Hostility>).FirstOrDefault(h => "/" + Kebab(h) == path, (Hostility)(-1));
        if (!Enum.IsDefined(hostility))
        {
            await WriteAsync(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }

        var request = new HostileRequest(hostility, DateTimeOffset.UtcNow, headers.GetValueOrDefault("x-cue-execution-id", ""), headers.GetValueOrDefault("x-cue-attempt", ""));
        requests.Add(request);
        var token = stop.Token;
        switch (hostility)
        {
            case Hostility.Hang:
                // Until the client gives up: a read returns 0 when it closes its end.
                _ = await stream.ReadAsync(new byte[1], token);
                break;
            case Hostility.DripHeaders:
                foreach (var b in Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"))
                {
                    await stream.WriteAsync(new[] { b }, token);
                    request.BytesWritten++;
                    await Task.Delay(TimeSpan.FromSeconds(1), token);
                }

                break;
            case Hostility.DripBody:
                await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n");
                for (var i = 0; i < 100_000; i++)
                {
                    await stream.WriteAsync("d"u8.ToArray(), token);
                    request.BytesWritten++;
                    await Task.Delay(TimeSpan.FromSeconds(1), token);
                }

                break;
            case Hostility.HugeBody:
                await WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {HugeBodyBytes}\r\nConnection: close\r\n\r\n");
                var block = Encoding.ASCII.GetBytes(new string('h', 64 * 1024));
                while (request.BytesWritten < HugeBodyBytes)
                {
                    await stream.WriteAsync(block, token);
                    request.BytesWritten += block.Length;
                }

                break;
            case Hostility.EndlessChunked:
                await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
                var chunk = Encoding.ASCII.GetBytes("1000\r\n" + new string('c', 0x1000) + "\r\n");
                while (true)
                {
                    await stream.WriteAsync(chunk, token);
                    request.BytesWritten += chunk.Length;
                }

            case Hostility.Redirect301 or Hostility.Redirect302 or Hostility.Redirect307:
                var code = hostility.ToString()[^3..];
                await WriteAsync(stream, $"HTTP/1.1 {code} Moved\r\nLocation: {RedirectTarget}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                break;
            case Hostility.ResetAfterRequest:
                Reset(client);
                break;
            case Hostility.TooManyRetryAfterSeconds:
                await WriteAsync(stream, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow");
                break;
            case Hostility.UnavailableRetryAfterDate:
                var date = (DateTimeOffset.UtcNow + TimeSpan.FromSeconds(4)).ToString("r", CultureInfo.InvariantCulture);
                await WriteAsync(stream, $"HTTP/1.1 503 Service Unavailable\r\nRetry-After: {date}\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy");
                break;
            case Hostility.TooManyRetryAfterHuge:
                await WriteAsync(stream, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                break;
            case Hostility.UnavailableRetryAfterGarbage:
                await WriteAsync(stream, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: soon-ish\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                break;
        }
    }

    private static async Task WriteAsync(Stream stream, string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Reads the request line, the headers and a Content-Length body; returns the path and the headers.</summary>
    private async Task<(string Path, Dictionary<string, string> Headers)> ReadRequestAsync(Stream stream)
    {
        var buffer = new List<byte>(4096);
        var one = new byte[4096];
        int end;
        while ((end = HeaderEnd(buffer)) < 0)
        {
            var read = await stream.ReadAsync(one, stop.Token);
            if (read == 0)
            {
                throw new IOException("The client closed before the request's headers ended.");
            }

            buffer.AddRange(one.AsSpan(0, read));
        }

        var lines = Encoding.ASCII.GetString([.. buffer.Take(end)]).Split("\r\n");
        var headers = lines.Skip(1)
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim().ToLowerInvariant())
            .ToDictionary(g => g.Key, g => g.First()[1].Trim());
        var length = headers.TryGetValue("content-length", out var given) ? int.Parse(given, CultureInfo.InvariantCulture) : 0;
        var have = buffer.Count - (end + 4);
        while (have < length)
        {
            var read = await stream.ReadAsync(one, stop.Token);
            if (read == 0)
            {
                throw new IOException("The client closed before the request's body ended.");
            }

            have += read;
        }

        return (lines[0].Split(' ')[1], headers);
    }

    private static int HeaderEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }
}
