using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cue.Tests.Infrastructure;

namespace Cue.Tests.Api;

/// <summary>
/// §10 transport: an API process of this fixture's own serves HTTPS from a self-signed certificate made
/// here, configured the way compose.yaml does it (named Kestrel endpoints, a PKCS#12 file and its password)
/// but without an SslProtocols setting, so the TLS floor comes from the code. TLS 1.2 and 1.3 work and
/// carry HSTS; TLS 1.1 gets no session; plain HTTP carries no HSTS.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class Serving_https
{
    // HSTS is never sent for localhost/127.0.0.1 (the middleware's default exclusions), so the client asks
    // for a real-looking name and connects to the loopback address itself.
    private const string HostName = "api.cue.test";
    private const string ExpectedHsts = "max-age=31536000; includeSubDomains";

    private CueStack stack = null!;
    private CueProcess api = null!;
    private X509Certificate2 certificate = null!;
    private string pfxPath = "";
    private int httpsPort;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        stack = await CueStack.SharedAsync();
        certificate = SelfSigned();
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        pfxPath = Path.Combine(Path.GetTempPath(), $"cue-test-{Guid.NewGuid():N}.pfx");
        await File.WriteAllBytesAsync(pfxPath, certificate.Export(X509ContentType.Pfx, password));

        var (postgres, rabbit) = await TestServices.GetAsync();
        var httpPort = CueStack.FreePort();
        httpsPort = CueStack.FreePort();
        api = new CueProcess("Cue.Api", httpPort, new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = postgres,
            ["ConnectionStrings__RabbitMq"] = rabbit,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // Named endpoints replace ASPNETCORE_URLS, as in compose.yaml: the plain one is CueProcess's
            // readiness port (compose's loopback health endpoint), the other the public HTTPS one.
            ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{httpPort}",
            ["Kestrel__Endpoints__Https__Url"] = $"https://127.0.0.1:{httpsPort}",
            ["Kestrel__Endpoints__Https__Certificate__Path"] = pfxPath,
            ["Kestrel__Endpoints__Https__Certificate__Password"] = password,
            // Kestrel reports a refused handshake at Debug.
            ["Logging__LogLevel__Microsoft.AspNetCore.Server.Kestrel"] = "Debug",
        });
        await api.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await api.DisposeAsync();
        certificate.Dispose();
        File.Delete(pfxPath);
    }

    [TestCase(SslProtocols.Tls12)]
    [TestCase(SslProtocols.Tls13)]
    public async Task A_modern_client_gets_the_api_over_https_with_hsts(SslProtocols protocol)
    {
        using var client = HttpsClient(protocol);
        using var response = await client.GetAsync(new Uri("/v1/info", UriKind.Relative));
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Headers.TryGetValues("Strict-Transport-Security", out var hsts), Is.True);
            Assert.That(hsts, Is.EqualTo(new[] { ExpectedHsts }));
        });
    }

    [Test]
    public async Task The_handshake_negotiates_tls_1_3_when_the_client_offers_both()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, httpsPort);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(ClientOptions(SslProtocols.Tls12 | SslProtocols.Tls13));
        Assert.That(tls.SslProtocol, Is.EqualTo(SslProtocols.Tls13));
    }

    [Test]
    public async Task A_tls_1_1_client_gets_no_session()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, httpsPort);
        await using var tls = new SslStream(tcp.GetStream());
#pragma warning disable SYSLIB0039, CA5397 // TLS 1.1 on purpose: this is the client that must be refused.
        var options = ClientOptions(SslProtocols.Tls11);
#pragma warning restore SYSLIB0039, CA5397
        // The local OpenSSL may already refuse to offer TLS 1.1; either way no session may come of it.
        Assert.That(async () => await tls.AuthenticateAsClientAsync(options), Throws.Exception);
        Assert.That(tls.IsAuthenticated, Is.False);
    }

    /// <summary>
    /// The client side of the previous test may never reach the server, so this one writes the TLS 1.1
    /// ClientHello by hand: the server answers with a fatal protocol_version alert, not a ServerHello. The
    /// same hello saying TLS 1.2 gets a ServerHello, so the hand-made hello is not simply malformed.
    /// </summary>
    [TestCase((ushort)0x0302, false, TestName = "A_hand_made_tls_1_1_hello_gets_a_protocol_version_alert")]
    [TestCase((ushort)0x0303, true, TestName = "The_same_hello_saying_tls_1_2_gets_a_server_hello")]
    public async Task The_server_answers_a_raw_client_hello(ushort version, bool accepted)
    {
        var logBefore = api.LogTail(int.MaxValue).Length;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, httpsPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(ClientHello(version));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = new byte[7];
        var read = await stream.ReadAtLeastAsync(answer, answer.Length, throwOnEndOfStream: false, timeout.Token);
        Assert.That(read, Is.EqualTo(answer.Length), "the server closed the connection without a TLS answer");
        if (accepted)
        {
            Assert.Multiple(() =>
            {
                Assert.That(answer[0], Is.EqualTo(0x16), "a handshake record");
                Assert.That(answer[5], Is.EqualTo(0x02), "a ServerHello");
            });
            return;
        }

        Assert.Multiple(() =>
        {
            Assert.That(answer[0], Is.EqualTo(0x15), "an alert record, not a handshake");
            Assert.That(answer[5], Is.EqualTo(2), "fatal");
            Assert.That(answer[6], Is.EqualTo(70), "protocol_version");
        });
        await WaitForLogAsync(logBefore, "Failed to authenticate HTTPS connection");
    }

    [Test]
    public async Task Plain_http_carries_no_hsts()
    {
        foreach (var address in new[] { stack.Api.BaseAddress, api.BaseAddress })
        {
            using var client = new HttpClient { BaseAddress = address };
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/info", UriKind.Relative));
            request.Headers.Host = HostName;
            using var response = await client.SendAsync(request);
            Assert.Multiple(() =>
            {
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), address.ToString());
                Assert.That(response.Headers.Contains("Strict-Transport-Security"), Is.False, address.ToString());
            });
        }
    }

    private async Task WaitForLogAsync(int from, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!api.LogTail(int.MaxValue)[Math.Min(from, api.LogTail(int.MaxValue).Length)..].Contains(text, StringComparison.Ordinal))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the server did not log \"{text}\":\n{api.LogTail()}");
            await Task.Delay(100);
        }
    }

    private HttpClient HttpsClient(SslProtocols protocols)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = ClientOptions(protocols),
            ConnectCallback = async (_, cancellation) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, httpsPort, cancellation);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://{HostName}:{httpsPort}") };
    }

    /// <summary>Trusts exactly this fixture's certificate, nothing else.</summary>
    private SslClientAuthenticationOptions ClientOptions(SslProtocols protocols)
    {
        var expected = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        return new SslClientAuthenticationOptions
        {
            TargetHost = HostName,
            EnabledSslProtocols = protocols,
            RemoteCertificateValidationCallback = (_, presented, _, _) =>
                presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == expected,
        };
    }

    private static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={HostName}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName(HostName);
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    /// <summary>A minimal ClientHello: ECDHE/RSA suites, the groups and signature schemes they need.</summary>
    private static byte[] ClientHello(ushort version)
    {
        var body = new List<byte>();
        Add16(body, version);
        body.AddRange(RandomNumberGenerator.GetBytes(32));
        body.Add(0); // no session id
        ushort[] suites = [0xc02f, 0xc030, 0xc013, 0xc014, 0x009c, 0x002f, 0x0035];
        Add16(body, suites.Length * 2);
        foreach (var suite in suites)
        {
            Add16(body, suite);
        }

        body.AddRange([1, 0]); // compression: null only
        var extensions = new List<byte>();
        Extension(extensions, 0x000a, [0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]); // supported_groups: x25519, secp256r1
        Extension(extensions, 0x000b, [0x01, 0x00]); // ec_point_formats: uncompressed
        Extension(extensions, 0x000d, [0x00, 0x04, 0x08, 0x04, 0x04, 0x01]); // signature_algorithms: rsa_pss_rsae_sha256, rsa_pkcs1_sha256
        Add16(body, extensions.Count);
        body.AddRange(extensions);

        var handshake = new List<byte> { 0x01, 0, (byte)(body.Count >> 8), (byte)body.Count };
        handshake.AddRange(body);
        var record = new List<byte> { 0x16, 0x03, 0x01 };
        Add16(record, handshake.Count);
        record.AddRange(handshake);
        return [.. record];
    }

    private static void Extension(List<byte> extensions, ushort type, byte[] data)
    {
        Add16(extensions, type);
        Add16(extensions, data.Length);
        extensions.AddRange(data);
    }

    private static void Add16(List<byte> bytes, int value)
    {
        bytes.Add((byte)(value >> 8));
        bytes.Add((byte)value);
    }
}
