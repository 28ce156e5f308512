using System.Net;
using System.Net.Sockets;
using Cue.Delivery.Attempts;
using Cue.Delivery.Sending;
using Cue.Delivery.Urls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cue.Tests.Delivery;

/// <summary>
/// Contract §8.4 at connect time, through the production webhook handler and a DNS server the test scripts:
/// the delivery client resolves the name itself, refuses if any answer is blocked, connects to the address
/// it vetted, and follows no redirects. A rebinding name that was public at creation is caught here.
/// </summary>
public sealed class Connect_time_checks
{
    private const string Secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static readonly IPAddress Public = IPAddress.Parse("93.184.215.14");

    [TestCase("127.0.0.1", false)]
    [TestCase("127.0.0.1", true)]
    [TestCase("10.0.0.1", false)]
    [TestCase("169.254.169.254", false)]
    [TestCase("169.254.169.254", true)]
    [TestCase("::ffff:127.0.0.1", true)]
    public async Task A_name_that_rebinds_after_creation_is_blocked_at_connect_without_a_connection(string rebound, bool testKey)
    {
        using var bait = new TcpListener(IPAddress.Loopback, 0);
        bait.Start();
        var port = ((IPEndPoint)bait.LocalEndpoint).Port;
        var dns = new ScriptedDns([Public], [IPAddress.Parse(rebound)]);
        var url = $"https://rebind.example.net:{port}/hook";

        Assert.That(CallbackUrlPolicy.Check(url, testKey, out var parsed), Is.Null);
        Assert.That(await CallbackUrlPolicy.CheckResolvedAsync(parsed!, TimeSpan.FromSeconds(2), dns.ResolveAsync, CancellationToken.None), Is.Null,
            "the first answer is public, so creation accepts the URL");

        var outcome = await SendAsync(dns, url, testKey);

        Assert.That(outcome.Result, Is.EqualTo(AttemptResult.Blocked));
        Assert.That(outcome.HttpStatus, Is.Null);
        Assert.That(outcome.RemoteAddress, Is.Null);
        Assert.That(dns.Asked, Is.EqualTo(new[] { "rebind.example.net", "rebind.example.net" }), "one lookup at creation, one at connect, no retry");
        Assert.That(bait.Pending(), Is.False, "no connection reached the rebound address");
    }

    [TestCase("93.184.215.14", "127.0.0.1")]
    [TestCase("127.0.0.1", "93.184.215.14")]
    [TestCase("93.184.215.14", "10.0.0.1")]
    [TestCase("2606:4700::1111", "fd00:ec2::254")]
    [TestCase("93.184.215.14", "64:ff9b::a9fe:a9fe")]
    public async Task Any_blocked_answer_among_public_ones_blocks_the_attempt(string first, string second)
    {
        using var bait = new TcpListener(IPAddress.Loopback, 0);
        bait.Start();
        var port = ((IPEndPoint)bait.LocalEndpoint).Port;
        var dns = new ScriptedDns([IPAddress.Parse(first), IPAddress.Parse(second)]);

        var outcome = await SendAsync(dns, $"https://mixed.example.net:{port}/hook", testKey: true);

        Assert.That(outcome.Result, Is.EqualTo(AttemptResult.Blocked));
        Assert.That(dns.Asked, Has.Count.EqualTo(1));
        Assert.That(bait.Pending(), Is.False);
    }

    [Test]
    public async Task A_name_that_resolves_only_to_loopback_is_blocked_even_for_a_test_key()
    {
        await using var receiver = await Receiver.StartAsync(200);
        var dns = new ScriptedDns([IPAddress.Loopback]);

        var outcome = await SendAsync(dns, $"http://hooks.example.net:{receiver.Port}/hook", testKey: true);

        Assert.That(outcome.Result, Is.EqualTo(AttemptResult.Blocked));
        Assert.That(receiver.Requests, Is.Empty);
    }

    [TestCase("localhost")]
    [TestCase("hooks.localhost")]
    public async Task A_localhost_name_is_never_looked_up_and_reaches_loopback_for_a_test_key(string host)
    {
        await using var receiver = await Receiver.StartAsync(200);
        var dns = new ScriptedDns([IPAddress.Loopback]);
        var url = $"http://{host}:{receiver.Port}/hook";
        Assert.That(CallbackUrlPolicy.Check(url, testMode: true, out var parsed), Is.Null);
        Assert.That(await CallbackUrlPolicy.CheckResolvedAsync(parsed!, TimeSpan.FromSeconds(2), dns.ResolveAsync, CancellationToken.None), Is.Null);

        var outcome = await SendAsync(dns, url, testKey: true);

        Assert.That(outcome.Result, Is.EqualTo(AttemptResult.Success));
        Assert.That(outcome.RemoteAddress, Is.EqualTo("127.0.0.1"));
        Assert.That(dns.Asked, Is.Empty, "§8.2: loopback names are never looked up");
        Assert.That(receiver.Requests, Has.Count.EqualTo(1));
        Assert.That(receiver.Requests[0].Host, Is.EqualTo($"{host}:{receiver.Port}"), "Host stays the original name");
    }

    [Test]
    public async Task A_live_key_never_reaches_loopback_at_connect()
    {
        await using var receiver = await Receiver.StartAsync(200);
        var dns = new ScriptedDns([IPAddress.Loopback]);

        foreach (var host in new[] { "localhost", "127.0.0.1", "[::ffff:127.0.0.1]" })
        {
            var outcome = await SendAsync(dns, $"http://{host}:{receiver.Port}/hook", testKey: false);
            Assert.That(outcome.Result, Is.EqualTo(AttemptResult.Blocked), host);
        }

        Assert.That(receiver.Requests, Is.Empty);
    }

    [TestCase("127.0.0.1")]
    [TestCase("localhost")]
    public async Task The_address_checked_is_the_address_connected(string host)
    {
        await using var receiver = await Receiver.StartAsync(204);
        var dns = new ScriptedDns([IPAddress.Loopback]);

        var outcome = await SendAsync(dns, $"http://{host}:{receiver.Port}/hook", testKey: true);

        Assert.That(outcome.Result, Is.EqualTo(AttemptResult.Success));
        // The connector records the address only after it has compared the socket's RemoteEndPoint with it.
        Assert.That(outcome.RemoteAddress, Is.EqualTo("127.0.0.1"));
        var seen = receiver.Requests.Single();
        Assert.That(seen.Local, Is.EqualTo(new IPEndPoint(IPAddress.Loopback, receiver.Port)), "the listener saw the connection on the vetted address");
    }

    [TestCase("http://169.254.169.254/latest/meta-data/")]
    [TestCase("/elsewhere")]
    public async Task A_redirect_is_the_final_response_and_a_retryable_failure(string location)
    {
        await using var receiver = await Receiver.StartAsync(302, location);
        var dns = new ScriptedDns([IPAddress.Loopback]);

        var outcome = await SendAsync(dns, $"http://127.0.0.1:{receiver.Port}/hook", testKey: true);

        Assert.That(outcome.HttpStatus, Is.EqualTo(302));
        Assert.That(outcome.Result, Is.EqualTo(AttemptResult.RetryableFailure));
        Assert.That(receiver.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/hook" }), "the redirect was not followed");
    }

    [Test]
    public async Task A_failed_lookup_at_connect_is_a_retryable_failure()
    {
        var dns = new ScriptedDns();

        var outcome = await SendAsync(dns, "https://nxdomain.example.net/hook", testKey: false);

        Assert.That(outcome.Result, Is.EqualTo(AttemptResult.RetryableFailure));
        Assert.That(dns.Asked, Is.EqualTo(new[] { "nxdomain.example.net" }));
    }

    private static async Task<AttemptOutcome> SendAsync(ScriptedDns dns, string url, bool testKey)
    {
        var connector = new GuardedConnector(dns.ResolveAsync);
        using var client = new HttpClient(WebhookSender.CreateHandler(connector));
        var sender = new WebhookSender(client, connector, TimeProvider.System);
        var outbound = new Outbound(url, "POST", "{\"hello\":1}"u8.ToArray(), [], TimeSpan.FromSeconds(10), testKey);
        return await sender.PostAsync(outbound, [Secret], CancellationToken.None);
    }

    /// <summary>A DNS server that gives its answers in order (the last one repeats) and notes every question.</summary>
    private sealed class ScriptedDns(params IPAddress[][] answers)
    {
        private readonly List<string> asked = [];

        public IReadOnlyList<string> Asked
        {
            get
            {
                lock (asked)
                {
                    return [.. asked];
                }
            }
        }

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            int n;
            lock (asked)
            {
                asked.Add(host);
                n = asked.Count;
            }

            return answers.Length == 0
                ? Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound))
                : Task.FromResult(answers[Math.Min(n, answers.Length) - 1]);
        }
    }

    private sealed record Seen(string Path, string Host, IPEndPoint Local);

    /// <summary>Kestrel on 127.0.0.1 only, answering every request with one status (and a Location, if given).</summary>
    private sealed class Receiver(WebApplication app, int port) : IAsyncDisposable
    {
        private readonly List<Seen> requests = [];

        public int Port { get; } = port;

        public IReadOnlyList<Seen> Requests
        {
            get
            {
                lock (requests)
                {
                    return [.. requests];
                }
            }
        }

        public static async Task<Receiver> StartAsync(int status, string? location = null)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            Receiver? receiver = null;
            app.Run(context =>
            {
                lock (receiver!.requests)
                {
                    receiver.requests.Add(new Seen(context.Request.Path, context.Request.Host.Value ?? "",
                        new IPEndPoint(context.Connection.LocalIpAddress!, context.Connection.LocalPort)));
                }

                context.Response.StatusCode = status;
                if (location is not null)
                {
                    context.Response.Headers.Location = location;
                }

                return Task.CompletedTask;
            });
            await app.StartAsync();
            receiver = new Receiver(app, new Uri(app.Urls.First()).Port);
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
