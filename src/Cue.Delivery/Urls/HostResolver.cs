using System.Net;

namespace Cue.Delivery.Urls;

/// <summary>
/// Looks a host name up (A and AAAA). A seam so tests can play a rebinding DNS server; production always
/// uses <see cref="HostResolvers.System"/>.
/// </summary>
public delegate Task<IPAddress[]> HostResolver(string host, CancellationToken cancellationToken);

public static class HostResolvers
{
    /// <summary>The operating system's resolver (<see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>).</summary>
    public static readonly HostResolver System = Dns.GetHostAddressesAsync;
}
