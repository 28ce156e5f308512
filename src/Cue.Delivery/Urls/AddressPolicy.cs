using System.Net;
using System.Net.Sockets;

namespace Cue.Delivery.Urls;

/// <summary>
/// The blocked address ranges of contract §8.3, judged on the parsed address (so no spelling of an
/// address escapes it). IPv6 forms that embed an IPv4 address are judged by that address.
/// </summary>
public static class AddressPolicy
{
    private static readonly (IPAddress Network, int Prefix)[] BlockedV4 =
    [
        (IPAddress.Parse("0.0.0.0"), 8),
        (IPAddress.Parse("10.0.0.0"), 8),
        (IPAddress.Parse("100.64.0.0"), 10),
        (IPAddress.Parse("127.0.0.0"), 8),
        (IPAddress.Parse("169.254.0.0"), 16),
        (IPAddress.Parse("172.16.0.0"), 12),
        (IPAddress.Parse("192.0.0.0"), 24),
        (IPAddress.Parse("192.0.2.0"), 24),
        (IPAddress.Parse("192.88.99.0"), 24),
        (IPAddress.Parse("192.168.0.0"), 16),
        (IPAddress.Parse("198.18.0.0"), 15),
        (IPAddress.Parse("198.51.100.0"), 24),
        (IPAddress.Parse("203.0.113.0"), 24),
        (IPAddress.Parse("224.0.0.0"), 4),
        (IPAddress.Parse("240.0.0.0"), 4),
    ];

    private static readonly (IPAddress Network, int Prefix)[] BlockedV6 =
    [
        (IPAddress.Parse("::"), 128),
        (IPAddress.Parse("::1"), 128),
        (IPAddress.Parse("fe80::"), 10),
        (IPAddress.Parse("fec0::"), 10),
        (IPAddress.Parse("fc00::"), 7),
        (IPAddress.Parse("ff00::"), 8),
        (IPAddress.Parse("100::"), 64),
        (IPAddress.Parse("2001::"), 23),
        (IPAddress.Parse("2001:db8::"), 32),
        (IPAddress.Parse("3fff::"), 20),
    ];

    /// <summary>True when the address is in a blocked range (loopback included: callers decide the test-mode exemption).</summary>
    public static bool IsBlocked(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return BlockedV4.Any(r => InRange(address, r.Network, r.Prefix));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return true;
        }

        if (address.ScopeId != 0)
        {
            return true;
        }

        if (EmbeddedIPv4(address) is { } embedded)
        {
            return IsBlocked(embedded);
        }

        return BlockedV6.Any(r => InRange(address, r.Network, r.Prefix));
    }

    /// <summary>127.0.0.0/8 or ::1 — the only addresses a test key's loopback callback may reach.</summary>
    public static bool IsLoopback(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
            ? InRange(address, IPAddress.Parse("127.0.0.0"), 8)
            : address.Equals(IPAddress.IPv6Loopback);

    /// <summary>The IPv4 address inside an IPv4-mapped, -compatible, NAT64 or 6to4 IPv6 address.</summary>
    public static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        var b = address.GetAddressBytes();
        bool Zero(int from, int to)
        {
            for (var i = from; i < to; i++)
            {
                if (b[i] != 0)
                {
                    return false;
                }
            }

            return true;
        }

        // ::ffff:0:0/96 (mapped)
        if (Zero(0, 10) && b[10] == 0xff && b[11] == 0xff)
        {
            return new IPAddress(b[12..16]);
        }

        // ::/96 (compatible); :: and ::1 themselves are judged as IPv6.
        if (Zero(0, 12) && !(Zero(12, 15) && b[15] <= 1))
        {
            return new IPAddress(b[12..16]);
        }

        // 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64)
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
        {
            if (Zero(4, 12) || (b[4] == 0 && b[5] == 1))
            {
                return new IPAddress(b[12..16]);
            }
        }

        // 2002::/16 (6to4): bits 16–47
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return new IPAddress(b[2..6]);
        }

        return null;
    }

    private static bool InRange(IPAddress address, IPAddress network, int prefix)
    {
        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        if (a.Length != n.Length)
        {
            return false;
        }

        var full = prefix / 8;
        for (var i = 0; i < full; i++)
        {
            if (a[i] != n[i])
            {
                return false;
            }
        }

        var rest = prefix % 8;
        if (rest == 0)
        {
            return true;
        }

        var mask = (byte)(0xff << (8 - rest));
        return (a[full] & mask) == (n[full] & mask);
    }
}
