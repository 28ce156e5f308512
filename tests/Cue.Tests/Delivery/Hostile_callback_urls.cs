using System.Net;
using System.Net.Sockets;
using Cue.Delivery.Urls;

namespace Cue.Tests.Delivery;

/// <summary>
/// Contract §8.1–8.5 on hostile callback URLs: every spelling is judged by the address or name it parses to,
/// for a live key and a test key, through the same two steps a cue's creation runs (the rules, then the
/// DNS check). DNS is a table here, so a name's answer is the row's premise rather than the network's.
/// </summary>
public sealed class Hostile_callback_urls
{
    private const string Ok = "accepted";
    private const string Invalid = CallbackUrlPolicy.InvalidCallbackUrl;
    private const string Https = CallbackUrlPolicy.HttpsRequired;
    private const string Blocked = CallbackUrlPolicy.CallbackUrlBlocked;

    private static readonly Dictionary<string, IPAddress[]> Dns = new(StringComparer.Ordinal)
    {
        ["rebind-loopback.example.net"] = [IPAddress.Parse("127.0.0.1")],
        ["169.254.169.254.nip.io"] = [IPAddress.Parse("169.254.169.254")],
        ["mixed.example.net"] = [IPAddress.Parse("93.184.215.14"), IPAddress.Parse("10.0.0.1")],
        ["v6-ula.example.net"] = [IPAddress.Parse("2606:4700::1111"), IPAddress.Parse("fd00::1")],
        ["mapped.example.net"] = [IPAddress.Parse("::ffff:127.0.0.1")],
    };

    // Contract §8.5, verbatim.
    [TestCase("https://example.com/hook", Ok, Ok)]
    [TestCase("http://example.com/hook", Https, Https)]
    [TestCase("http://127.0.0.1:8080/hook", Https, Ok)]
    [TestCase("http://localhost:8080/hook", Https, Ok)]
    [TestCase("https://10.0.0.1/hook", Blocked, Blocked)]
    [TestCase("https://192.168.1.1/hook", Blocked, Blocked)]
    [TestCase("https://169.254.169.254/latest/meta-data/", Blocked, Blocked)]
    [TestCase("https://[fd00:ec2::254]/", Blocked, Blocked)]
    [TestCase("https://metadata.google.internal/computeMetadata/v1/", Blocked, Blocked)]
    [TestCase("https://2130706433/", Invalid, Invalid)]
    [TestCase("https://0x7f.1/", Invalid, Invalid)]
    [TestCase("https://[::ffff:127.0.0.1]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b::a9fe:a9fe]/", Blocked, Blocked)]
    [TestCase("https://good.com@127.0.0.1/", Invalid, Invalid)]
    [TestCase("ftp://example.com/x", Invalid, Invalid)]
    [TestCase("file:///etc/passwd", Invalid, Invalid)]

    // Other spellings of an IPv4 address: only the canonical dotted quad is an address (§8.1).
    [TestCase("https://0x7f000001/", Invalid, Invalid)]
    [TestCase("https://0X7F000001/", Invalid, Invalid)]
    [TestCase("https://0177.0.0.1/", Invalid, Invalid)]
    [TestCase("https://127.1/", Invalid, Invalid)]
    [TestCase("https://0/", Invalid, Invalid)]
    [TestCase("https://017700000001/", Invalid, Invalid)]
    [TestCase("https://127.0.0.01/", Invalid, Invalid)]
    [TestCase("https://127.000.000.001/", Invalid, Invalid)]
    [TestCase("https://0x7f.0.0.1/", Invalid, Invalid)]
    [TestCase("https://0x7f.0x0.0x0.0x1/", Invalid, Invalid)]
    [TestCase("https://127.0.0.0x1/", Invalid, Invalid)]
    [TestCase("https://1.2.3.4.5/", Invalid, Invalid)]
    [TestCase("https://1.2.3/", Invalid, Invalid)]
    [TestCase("https://4294967295/", Invalid, Invalid)]
    [TestCase("https://4294967296/", Invalid, Invalid)]
    [TestCase("https://256.0.0.1/", Invalid, Invalid)]
    [TestCase("https://169.254.43518/", Invalid, Invalid)]
    [TestCase("https://0xa9fea9fe/", Invalid, Invalid)]
    [TestCase("https://0251.0376.0251.0376/", Invalid, Invalid)]
    [TestCase("http://2130706433:8080/", Invalid, Invalid)]
    [TestCase("http://127.1:8080/", Invalid, Invalid)]

    // A final label that is all digits is not a name.
    [TestCase("https://example.123/", Invalid, Invalid)]
    [TestCase("https://hooks.example.com.1/", Invalid, Invalid)]
    [TestCase("https://x.0/", Invalid, Invalid)]
    [TestCase("https://0x7f.example.com/", Ok, Ok)]

    // Userinfo in any form (§8.1); an @ after the authority is only path or query.
    [TestCase("https://user:pass@example.com/", Invalid, Invalid)]
    [TestCase("https://user@example.com/", Invalid, Invalid)]
    [TestCase("https://@example.com/", Invalid, Invalid)]
    [TestCase("https://example.com:443@127.0.0.1/", Invalid, Invalid)]
    [TestCase("https://example.com@169.254.169.254/", Invalid, Invalid)]
    [TestCase("https://user:pass@127.0.0.1:8080/", Invalid, Invalid)]
    [TestCase("http://user@localhost:8080/", Invalid, Invalid)]
    [TestCase("https://example.com/@127.0.0.1", Ok, Ok)]
    [TestCase("https://example.com?@127.0.0.1/", Ok, Ok)]

    // Fragments.
    [TestCase("https://example.com/hook#frag", Invalid, Invalid)]
    [TestCase("https://example.com#@127.0.0.1", Invalid, Invalid)]
    [TestCase("https://example.com/#", Invalid, Invalid)]

    // Backslashes, whitespace and control characters anywhere.
    [TestCase("https://example.com\\@127.0.0.1/", Invalid, Invalid)]
    [TestCase("https:\\\\127.0.0.1\\", Invalid, Invalid)]
    [TestCase("https://127.0.0.1\\.example.com/", Invalid, Invalid)]
    [TestCase(" https://example.com/", Invalid, Invalid)]
    [TestCase("https://example.com /", Invalid, Invalid)]
    [TestCase("https://exam ple.com/", Invalid, Invalid)]
    [TestCase("https://example.com/\t", Invalid, Invalid)]
    [TestCase("https://example.com\r\n/", Invalid, Invalid)]
    [TestCase("https://example.com\u0000.evil/", Invalid, Invalid)]
    [TestCase("https://example.com/\u007f", Invalid, Invalid)]
    [TestCase("https://example.com\u00a0/", Invalid, Invalid)]
    [TestCase("https://example.com\u2028/", Invalid, Invalid)]
    [TestCase("https://example.com/hook\n", Invalid, Invalid)]

    // Percent-encoding in the host (a path may have it).
    [TestCase("https://%31%32%37.0.0.1/", Invalid, Invalid)]
    [TestCase("https://127.0.0.1%2f/", Invalid, Invalid)]
    [TestCase("https://example%2ecom/", Invalid, Invalid)]
    [TestCase("https://%6c%6f%63%61%6c%68%6f%73%74/", Invalid, Invalid)]
    [TestCase("https://127.0.0.1%40example.com/", Invalid, Invalid)]
    [TestCase("https://example.com/%2e%2e/hook", Ok, Ok)]

    // Zone ids and bracket games.
    [TestCase("https://[fe80::1%25eth0]/", Invalid, Invalid)]
    [TestCase("https://[fe80::1%eth0]/", Invalid, Invalid)]
    [TestCase("http://[::1%251]:8080/", Invalid, Invalid)]
    [TestCase("https://[127.0.0.1]/", Invalid, Invalid)]
    [TestCase("https://[2130706433]/", Invalid, Invalid)]
    [TestCase("https://[::1/", Invalid, Invalid)]
    [TestCase("https://::1/", Invalid, Invalid)]
    [TestCase("https://[::1]x/", Invalid, Invalid)]
    [TestCase("https://[[::1]]/", Invalid, Invalid)]
    [TestCase("https://[v1.fe80::a]/", Invalid, Invalid)]
    [TestCase("https://[example.com]/", Invalid, Invalid)]
    [TestCase("https://[::1]:/", Invalid, Invalid)]
    [TestCase("https://[::1]/", Blocked, Ok)]
    [TestCase("http://[::1]:8080/", Https, Ok)]
    [TestCase("https://[0:0:0:0:0:0:0:1]/", Blocked, Ok)]
    [TestCase("https://[0000::0001]:8443/", Blocked, Ok)]

    // Every IPv4 range of §8.3; loopback only for test keys.
    [TestCase("https://0.0.0.0/", Blocked, Blocked)]
    [TestCase("https://0.1.2.3/", Blocked, Blocked)]
    [TestCase("https://10.0.0.1/", Blocked, Blocked)]
    [TestCase("https://10.255.255.255/", Blocked, Blocked)]
    [TestCase("https://100.64.0.1/", Blocked, Blocked)]
    [TestCase("https://100.100.100.200/", Blocked, Blocked)]
    [TestCase("https://100.127.255.254/", Blocked, Blocked)]
    [TestCase("https://169.254.0.1/", Blocked, Blocked)]
    [TestCase("https://169.254.169.254/", Blocked, Blocked)]
    [TestCase("https://169.254.170.2/", Blocked, Blocked)]
    [TestCase("https://172.16.0.1/", Blocked, Blocked)]
    [TestCase("https://172.31.255.255/", Blocked, Blocked)]
    [TestCase("https://192.0.0.1/", Blocked, Blocked)]
    [TestCase("https://192.0.0.192/", Blocked, Blocked)]
    [TestCase("https://192.0.2.1/", Blocked, Blocked)]
    [TestCase("https://192.88.99.1/", Blocked, Blocked)]
    [TestCase("https://192.168.0.1/", Blocked, Blocked)]
    [TestCase("https://198.18.0.1/", Blocked, Blocked)]
    [TestCase("https://198.19.255.255/", Blocked, Blocked)]
    [TestCase("https://198.51.100.1/", Blocked, Blocked)]
    [TestCase("https://203.0.113.1/", Blocked, Blocked)]
    [TestCase("https://224.0.0.1/", Blocked, Blocked)]
    [TestCase("https://239.255.255.250/", Blocked, Blocked)]
    [TestCase("https://240.0.0.1/", Blocked, Blocked)]
    [TestCase("https://255.255.255.255/", Blocked, Blocked)]
    [TestCase("https://127.0.0.1/", Blocked, Ok)]
    [TestCase("https://127.255.255.254/", Blocked, Ok)]
    [TestCase("http://127.0.0.1./", Https, Ok)]
    [TestCase("http://0.0.0.0:8080/", Https, Https)]
    [TestCase("http://10.0.0.1/", Https, Https)]

    // Neighbours of the blocked IPv4 ranges are public.
    [TestCase("https://8.8.8.8/", Ok, Ok)]
    [TestCase("https://11.0.0.1/", Ok, Ok)]
    [TestCase("https://100.63.255.255/", Ok, Ok)]
    [TestCase("https://100.128.0.1/", Ok, Ok)]
    [TestCase("https://126.255.255.255/", Ok, Ok)]
    [TestCase("https://128.0.0.1/", Ok, Ok)]
    [TestCase("https://169.253.255.255/", Ok, Ok)]
    [TestCase("https://169.255.0.1/", Ok, Ok)]
    [TestCase("https://172.15.255.255/", Ok, Ok)]
    [TestCase("https://172.32.0.1/", Ok, Ok)]
    [TestCase("https://192.0.1.1/", Ok, Ok)]
    [TestCase("https://192.0.3.1/", Ok, Ok)]
    [TestCase("https://192.169.0.1/", Ok, Ok)]
    [TestCase("https://198.17.255.255/", Ok, Ok)]
    [TestCase("https://198.20.0.1/", Ok, Ok)]
    [TestCase("https://223.255.255.255/", Ok, Ok)]

    // Every IPv6 range of §8.3.
    [TestCase("https://[::]/", Blocked, Blocked)]
    [TestCase("https://[fe80::1]/", Blocked, Blocked)]
    [TestCase("https://[febf:ffff::1]/", Blocked, Blocked)]
    [TestCase("https://[fec0::1]/", Blocked, Blocked)]
    [TestCase("https://[feff::1]/", Blocked, Blocked)]
    [TestCase("https://[fc00::1]/", Blocked, Blocked)]
    [TestCase("https://[fdff::1]/", Blocked, Blocked)]
    [TestCase("https://[fd00:ec2::254]/", Blocked, Blocked)]
    [TestCase("https://[ff02::1]/", Blocked, Blocked)]
    [TestCase("https://[ff0e::1]/", Blocked, Blocked)]
    [TestCase("https://[100::1]/", Blocked, Blocked)]
    [TestCase("https://[100::ffff:ffff:ffff:ffff]/", Blocked, Blocked)]
    [TestCase("https://[2001::1]/", Blocked, Blocked)]
    [TestCase("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", Blocked, Blocked)]
    [TestCase("https://[2001:1ff::1]/", Blocked, Blocked)]
    [TestCase("https://[2001:db8::1]/", Blocked, Blocked)]
    [TestCase("https://[2001:db8:ffff::1]/", Blocked, Blocked)]
    [TestCase("https://[3fff::1]/", Blocked, Blocked)]
    [TestCase("https://[3fff:fff:ffff::1]/", Blocked, Blocked)]
    [TestCase("https://[100:0:0:1::1]/", Ok, Ok)]
    [TestCase("https://[2001:200::1]/", Ok, Ok)]
    [TestCase("https://[3fff:1000::1]/", Ok, Ok)]
    [TestCase("https://[2606:4700::1111]/", Ok, Ok)]
    [TestCase("https://[2a00:1450:4001::1]/", Ok, Ok)]

    // IPv6 forms embedding IPv4 are judged by the IPv4 address, and are never loopback.
    [TestCase("https://[::ffff:10.0.0.1]/", Blocked, Blocked)]
    [TestCase("https://[::ffff:a9fe:a9fe]/", Blocked, Blocked)]
    [TestCase("https://[::ffff:0:0]/", Blocked, Blocked)]
    [TestCase("https://[::ffff:7f00:1]/", Blocked, Blocked)]
    [TestCase("https://[::ffff:192.168.1.1]/", Blocked, Blocked)]
    [TestCase("https://[::ffff:169.254.170.2]/", Blocked, Blocked)]
    [TestCase("https://[::127.0.0.1]/", Blocked, Blocked)]
    [TestCase("https://[::a9fe:a9fe]/", Blocked, Blocked)]
    [TestCase("https://[::10.0.0.1]/", Blocked, Blocked)]
    [TestCase("https://[::0.0.0.2]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b::7f00:1]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b::10.0.0.1]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b::169.254.169.254]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b::100.100.100.200]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b:1::a00:1]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b:1:ffff::a9fe:a9fe]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b:1::c0a8:101]/", Blocked, Blocked)]
    [TestCase("https://[64:ff9b:1::127.0.0.1]/", Blocked, Blocked)]
    [TestCase("https://[2002:7f00:1::1]/", Blocked, Blocked)]
    [TestCase("https://[2002:a9fe:a9fe::]/", Blocked, Blocked)]
    [TestCase("https://[2002:a00:1::1]/", Blocked, Blocked)]
    [TestCase("https://[2002:c0a8:101::1]/", Blocked, Blocked)]
    [TestCase("https://[2002:6440:1::]/", Blocked, Blocked)]
    [TestCase("http://[::ffff:127.0.0.1]:8080/", Https, Https)]
    [TestCase("https://[::ffff:8.8.8.8]/", Ok, Ok)]
    [TestCase("https://[::8.8.8.8]/", Ok, Ok)]
    [TestCase("https://[64:ff9b::808:808]/", Ok, Ok)]
    [TestCase("https://[64:ff9b:1::808:808]/", Ok, Ok)]
    [TestCase("https://[2002:808:808::1]/", Ok, Ok)]

    // Blocked names (§8.3); localhost names are loopback for test keys only.
    [TestCase("https://metadata/", Blocked, Blocked)]
    [TestCase("https://metadata./", Blocked, Blocked)]
    [TestCase("https://METADATA.GOOGLE.INTERNAL./", Blocked, Blocked)]
    [TestCase("https://intranet/", Blocked, Blocked)]
    [TestCase("https://instance-data/", Blocked, Blocked)]
    [TestCase("https://internal/", Blocked, Blocked)]
    [TestCase("https://anything.internal/", Blocked, Blocked)]
    [TestCase("https://printer.local/", Blocked, Blocked)]
    [TestCase("https://local/", Blocked, Blocked)]
    [TestCase("https://nas.localdomain/", Blocked, Blocked)]
    [TestCase("https://router.home.arpa/", Blocked, Blocked)]
    [TestCase("https://home.arpa/", Blocked, Blocked)]
    [TestCase("https://x.invalid/", Blocked, Blocked)]
    [TestCase("https://x.test/", Blocked, Blocked)]
    [TestCase("https://x.example/", Blocked, Blocked)]
    [TestCase("https://xyz.onion/", Blocked, Blocked)]
    [TestCase("https://x.alt/", Blocked, Blocked)]
    [TestCase("https://localhost/", Blocked, Ok)]
    [TestCase("https://LOCALHOST./", Blocked, Ok)]
    [TestCase("https://app.localhost/", Blocked, Ok)]
    [TestCase("http://app.localhost:3000/", Https, Ok)]
    [TestCase("https://localhost.example.com/", Ok, Ok)]

    // Names are resolved at creation; any blocked answer blocks, a failed lookup leaves it to connect time (§8.4).
    [TestCase("https://rebind-loopback.example.net/", Blocked, Blocked)]
    [TestCase("http://rebind-loopback.example.net/", Https, Https)]
    [TestCase("https://169.254.169.254.nip.io/", Blocked, Blocked)]
    [TestCase("https://mixed.example.net/", Blocked, Blocked)]
    [TestCase("https://v6-ula.example.net/", Blocked, Blocked)]
    [TestCase("https://mapped.example.net/", Blocked, Blocked)]
    [TestCase("https://nxdomain.example.net/", Ok, Ok)]

    // IDNA (UTS #46) runs first, so what is judged is the normalised host.
    [TestCase("https://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/", Blocked, Ok)]
    [TestCase("https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", Blocked, Ok)]
    [TestCase("https://127\u30020\u30020\u30021/", Blocked, Ok)]
    [TestCase("https://\uff10\uff58\uff17\uff46.\uff11/", Invalid, Invalid)]
    [TestCase("https://good.com\uff20127.0.0.1/", Invalid, Invalid)]
    [TestCase("https://127.0.0.1\uff0f.example.com/", Invalid, Invalid)]
    [TestCase("https://example.com\uff03frag/", Invalid, Invalid)]
    [TestCase("https://example.com\uff1a443/", Invalid, Invalid)]
    [TestCase("https://localhost\u3002/", Blocked, Ok)]
    [TestCase("https://metadata.google.internal\u3002/", Blocked, Blocked)]
    [TestCase("https://127.0.0.1\uff0e/", Blocked, Ok)]
    [TestCase("https://b\u00fccher.example.com/", Ok, Ok)]
    [TestCase("https://exa_mple.com/", Invalid, Invalid)]
    [TestCase("https://example..com/", Invalid, Invalid)]
    [TestCase("https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/", Invalid, Invalid)]
    [TestCase("https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/", Ok, Ok)]

    // Ports.
    [TestCase("https://example.com:0/", Invalid, Invalid)]
    [TestCase("https://example.com:65536/", Invalid, Invalid)]
    [TestCase("https://example.com:99999/", Invalid, Invalid)]
    [TestCase("https://example.com:-1/", Invalid, Invalid)]
    [TestCase("https://example.com:+443/", Invalid, Invalid)]
    [TestCase("https://example.com:0x1bb/", Invalid, Invalid)]
    [TestCase("https://example.com:443:443/", Invalid, Invalid)]
    [TestCase("http://127.0.0.1:0/", Invalid, Invalid)]
    [TestCase("http://localhost:65536/", Invalid, Invalid)]
    [TestCase("https://[::1]:0/", Invalid, Invalid)]
    [TestCase("https://example.com:65535/", Ok, Ok)]
    [TestCase("https://example.com:1/", Ok, Ok)]

    // Schemes.
    [TestCase("gopher://example.com/", Invalid, Invalid)]
    [TestCase("javascript:alert(1)", Invalid, Invalid)]
    [TestCase("javascript://example.com/%0aalert(1)", Invalid, Invalid)]
    [TestCase("data:text/html,hi", Invalid, Invalid)]
    [TestCase("ws://example.com/", Invalid, Invalid)]
    [TestCase("wss://example.com/", Invalid, Invalid)]
    [TestCase("dict://127.0.0.1:11211/", Invalid, Invalid)]
    [TestCase("ldap://example.com/", Invalid, Invalid)]
    [TestCase("sftp://example.com/", Invalid, Invalid)]
    [TestCase("//example.com/hook", Invalid, Invalid)]
    [TestCase("example.com/hook", Invalid, Invalid)]
    [TestCase("https:example.com", Invalid, Invalid)]
    [TestCase("https:/example.com", Invalid, Invalid)]
    [TestCase("https:///example.com", Invalid, Invalid)]
    [TestCase("https://", Invalid, Invalid)]
    [TestCase("", Invalid, Invalid)]
    [TestCase("httpx://example.com/", Invalid, Invalid)]
    [TestCase("HTTPS://EXAMPLE.COM/hook", Ok, Ok)]
    [TestCase("hTTp://127.0.0.1:8080/", Https, Ok)]
    public async Task Is_judged_by_what_it_parses_to(string url, string live, string test)
    {
        var verdicts = (await JudgeAsync(url, testMode: false), await JudgeAsync(url, testMode: true));
        Assert.That(verdicts, Is.EqualTo((live, test)), url);
    }

    [Test]
    public async Task Is_at_most_2048_characters()
    {
        const string prefix = "https://example.com/";
        var longest = prefix + new string('a', CallbackUrlPolicy.MaxLength - prefix.Length);
        Assert.That(longest, Has.Length.EqualTo(2048));
        Assert.That(await JudgeAsync(longest, testMode: false), Is.EqualTo(Ok));
        Assert.That(await JudgeAsync(longest + "a", testMode: false), Is.EqualTo(Invalid));
        Assert.That(await JudgeAsync(longest + "a", testMode: true), Is.EqualTo(Invalid));
    }

    [Test]
    public async Task A_host_over_253_characters_is_not_a_name()
    {
        var labels = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255 characters
        Assert.That(await JudgeAsync($"https://{labels}/", testMode: false), Is.EqualTo(Invalid));
        Assert.That(await JudgeAsync($"https://{labels[..249]}.com/", testMode: false), Is.EqualTo(Ok));
    }

    [Test]
    public async Task Literals_and_loopback_names_are_never_looked_up()
    {
        var asked = new List<string>();
        foreach (var url in new[] { "https://127.0.0.1/", "https://[::1]/", "https://localhost/", "https://app.localhost/", "https://8.8.8.8/", "https://[2606:4700::1111]/" })
        {
            Assert.That(CallbackUrlPolicy.Check(url, testMode: true, out var parsed), Is.Null, url);
            Assert.That(await CallbackUrlPolicy.CheckResolvedAsync(parsed!, TimeSpan.FromSeconds(2), (host, _) =>
            {
                asked.Add(host);
                return Task.FromResult<IPAddress[]>([IPAddress.Parse("10.0.0.1")]);
            }, CancellationToken.None), Is.Null, url);
        }

        Assert.That(asked, Is.Empty);
    }

    [Test]
    public async Task A_lookup_over_the_budget_leaves_the_decision_to_connect_time()
    {
        Assert.That(CallbackUrlPolicy.Check("https://slow.example.net/", testMode: false, out var parsed), Is.Null);
        var rejection = await CallbackUrlPolicy.CheckResolvedAsync(parsed!, TimeSpan.FromMilliseconds(50), async (_, cancellationToken) =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return [IPAddress.Parse("10.0.0.1")];
        }, CancellationToken.None);
        Assert.That(rejection, Is.Null);
    }

    /// <summary>What creating a cue with this URL answers: the rules, then (for a name) the creation-time DNS check.</summary>
    private static async Task<string> JudgeAsync(string url, bool testMode)
    {
        var rejection = CallbackUrlPolicy.Check(url, testMode, out var parsed);
        if (rejection is null)
        {
            Assert.That(parsed, Is.Not.Null);
            rejection = await CallbackUrlPolicy.CheckResolvedAsync(parsed!, TimeSpan.FromSeconds(2), ResolveAsync, CancellationToken.None);
        }

        return rejection?.Code ?? Ok;
    }

    /// <summary>Unknown names answer with a public address; <c>nxdomain.example.net</c> does not exist.</summary>
    private static Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        host == "nxdomain.example.net"
            ? Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound))
            : Task.FromResult(Dns.TryGetValue(host, out var answer) ? answer : [IPAddress.Parse("93.184.215.14")]);
}
