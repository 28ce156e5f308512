using System.Net;
using Cue.Delivery.Urls;

namespace Cue.Tests.Delivery;

public sealed class Judging_an_address
{
    [TestCase("127.0.0.1")]
    [TestCase("10.1.2.3")]
    [TestCase("172.31.255.255")]
    [TestCase("192.168.0.1")]
    [TestCase("169.254.169.254")]
    [TestCase("100.100.100.200")]
    [TestCase("0.0.0.0")]
    [TestCase("224.0.0.1")]
    [TestCase("255.255.255.255")]
    [TestCase("198.18.0.1")]
    [TestCase("::1")]
    [TestCase("::")]
    [TestCase("fe80::1")]
    [TestCase("fd00:ec2::254")]
    [TestCase("ff02::1")]
    [TestCase("2001:db8::1")]
    [TestCase("::ffff:127.0.0.1")]
    [TestCase("::ffff:169.254.169.254")]
    [TestCase("64:ff9b::a9fe:a9fe")]
    [TestCase("2002:a9fe:a9fe::1")]
    public void Blocks_private_loopback_link_local_and_embedded_forms(string address) =>
        Assert.That(AddressPolicy.IsBlocked(IPAddress.Parse(address)), Is.True);

    [TestCase("93.184.215.14")]
    [TestCase("8.8.8.8")]
    [TestCase("172.32.0.1")]
    [TestCase("2606:4700::1111")]
    [TestCase("::ffff:8.8.8.8")]
    public void Allows_public_addresses(string address) =>
        Assert.That(AddressPolicy.IsBlocked(IPAddress.Parse(address)), Is.False);
}
