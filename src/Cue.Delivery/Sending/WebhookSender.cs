using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Cue.Contracts;
using Cue.Contracts.Messages;
using Cue.Delivery.Attempts;
using Cue.Delivery.Signing;
using Cue.Delivery.Targets;
using Cue.Hosting;

namespace Cue.Delivery.Sending;

/// <summary>How one attempt ended, before any retry decision.</summary>
public sealed record AttemptOutcome(
    AttemptResult Result,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    int? HttpStatus,
    string? ErrorMessage,
    string? ResponseBody,
    string? RemoteAddress,
    TimeSpan? RetryAfter);

/// <summary>One signed request to a callback: where, how, the exact body bytes, and the headers after Cue's own.</summary>
public sealed record Outbound(string Url, string Method, byte[] Body, IReadOnlyList<KeyValuePair<string, string>> Headers, TimeSpan Timeout, bool AllowLoopback);

/// <summary>Builds, signs and POSTs one attempt and classifies what came back (§9). Never throws for the receiver's faults.</summary>
public sealed class WebhookSender(HttpClient client, GuardedConnector connector, TimeProvider time)
{
    public const string ClientName = "webhooks";
    public const int MaxBodyRead = 64 * 1024;
    public const int MaxBodyKept = 2048;

    public static readonly string UserAgent = "Cue/" + ServiceVersion.Current;

    /// <summary>
    /// The webhook client's handler (§8.4): every connect goes through <paramref name="connector"/>, no
    /// redirects, no ambient proxy, TLS 1.2 or later.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(GuardedConnector connector) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = connector.ConnectAsync,
        SslOptions = { EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13 },
    };

    public Task<AttemptOutcome> SendAsync(OpenCallback callback, string cueName, string payload, IReadOnlyList<string> secrets, DeliverCue message, CancellationToken cancellationToken)
    {
        var body = WebhookBody.Build(message.Attempt, message.CueId, message.ExecutionId, cueName, payload, message.ScheduledFor);
        var headers = new List<KeyValuePair<string, string>>
        {
            new("X-Cue-Cue-Id", message.CueId),
            new("X-Cue-Execution-Id", message.ExecutionId.ToString("D")),
            new("X-Cue-Scheduled-For", Timestamps.ToWire(message.ScheduledFor)),
            new("X-Cue-Attempt", message.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };

        // The user's headers go last; reserved names were refused when the cue was saved.
        headers.AddRange(callback.Headers);
        var outbound = new Outbound(callback.Url, callback.Method, body, headers, callback.Timeout, callback.AllowLoopback);
        return PostAsync(outbound, secrets, cancellationToken);
    }

    /// <summary>
    /// Signs <paramref name="outbound"/>'s body with a fresh timestamp and sends it through the guarded
    /// connector (SSRF checks on the address connected, no redirects, no proxy); classifies the answer.
    /// </summary>
    public async Task<AttemptOutcome> PostAsync(Outbound outbound, IReadOnlyList<string> secrets, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        var method = new HttpMethod(outbound.Method);
        var hasBody = method != HttpMethod.Get;
        var signed = hasBody ? outbound.Body : [];
        var timestamp = startedAt.ToUnixTimeSeconds();

        using var request = new HttpRequestMessage(method, outbound.Url);
        request.Version = HttpVersion.Version11;
        var connected = new StrongBox<string?>();
        request.Options.Set(GuardedConnector.ConnectedAddress, connected);
        request.Options.Set(GuardedConnector.AllowLoopback, outbound.AllowLoopback);
        if (hasBody)
        {
            request.Content = new ByteArrayContent(outbound.Body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.TryAddWithoutValidation("X-Cue-Signature", WebhookSigner.Header(secrets, timestamp, signed));
        request.Headers.TryAddWithoutValidation("X-Cue-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (name, value) in outbound.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(outbound.Timeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var snippet = await ReadSnippetAsync(response, cancellationToken);
            var result = AttemptClassifier.ForStatus(status);
            TimeSpan? retryAfter = AttemptClassifier.HonoursRetryAfter(status)
                ? AttemptClassifier.ParseRetryAfter(response.Headers.TryGetValues("Retry-After", out var values) ? values.FirstOrDefault() : null, time.GetUtcNow())
                : null;
            return new AttemptOutcome(result, startedAt, startedAt + watch.Elapsed, status,
                result == AttemptResult.Success ? null : $"HTTP {status}", snippet, connected.Value ?? connector.LastPeer(request.RequestUri!), retryAfter);
        }
        catch (Exception ex) when (Blocked(ex) is { } blocked)
        {
            return new AttemptOutcome(AttemptResult.Blocked, startedAt, startedAt + watch.Elapsed, null, blocked.Message, null, null, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failure($"Timed out after {outbound.Timeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException ex)
        {
            return Failure(Describe(ex));
        }

        AttemptOutcome Failure(string error) =>
            new(AttemptResult.RetryableFailure, startedAt, startedAt + watch.Elapsed, null, error, null, connected.Value, null);
    }

    private static DestinationBlockedException? Blocked(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is DestinationBlockedException blocked)
            {
                return blocked;
            }
        }

        return null;
    }

    private static string Describe(HttpRequestException ex) => ex.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "DNS lookup failed.",
        HttpRequestError.ConnectionError => "Could not connect to the callback host.",
        HttpRequestError.SecureConnectionError => "TLS handshake failed.",
        HttpRequestError.ResponseEnded => "The connection closed before a response arrived.",
        HttpRequestError.InvalidResponse => "The response was not valid HTTP.",
        _ => "The request failed: " + ex.HttpRequestError + ".",
    };

    /// <summary>Reads at most 64 KiB of the body, keeps the first 2,048 bytes as UTF-8 (invalid bytes replaced).</summary>
    private static async Task<string?> ReadSnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var bodyTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bodyTimeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(bodyTimeout.Token);
            var buffer = new byte[MaxBodyKept];
            var kept = 0;
            var total = 0;
            var scratch = new byte[8192];
            while (total < MaxBodyRead)
            {
                var read = await stream.ReadAsync(scratch.AsMemory(0, Math.Min(scratch.Length, MaxBodyRead - total)), bodyTimeout.Token);
                if (read == 0)
                {
                    break;
                }

                var take = Math.Min(read, MaxBodyKept - kept);
                scratch.AsSpan(0, take).CopyTo(buffer.AsSpan(kept));
                kept += take;
                total += read;
            }

            return kept == 0 ? null : Encoding.UTF8.GetString(buffer, 0, kept);
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException)
        {
            return null;
        }
    }
}
