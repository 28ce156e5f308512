using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Net;
using System.Net.Sockets;
using Cue.Delivery.Urls;

namespace Cue.Delivery.Sending;

/// <summary>The destination resolved to a blocked address at connect time: permanent, never retried.</summary>
public sealed class DestinationBlockedException(string message) : Exception(message);

/// <summary>
/// The connect step of the webhook client (<see cref="SocketsHttpHandler.ConnectCallback"/>): it resolves
/// the name itself, refuses the connection if any address is blocked, connects to a vetted address and
/// checks the socket's peer is that address — so the address checked is the address connected, and DNS
/// rebinding has nothing to exploit. TLS SNI and Host stay the original name (the handler does that).
/// The resolver is the operating system's unless a test plays DNS.
/// </summary>
public sealed class GuardedConnector(HostResolver? resolver = null)
{
    private readonly HostResolver resolver = resolver ?? HostResolvers.System;

    public static readonly HttpRequestOptionsKey<bool> AllowLoopback = new("cue.allow-loopback");
    public static readonly HttpRequestOptionsKey<StrongBox<string?>> ConnectedAddress = new("cue.connected-address");

    // Pooled connections are reused without a connect step; remember the peer per authority for the record.
    private readonly ConcurrentDictionary<string, string> lastPeer = new(StringComparer.Ordinal);

    public string? LastPeer(Uri uri) => lastPeer.TryGetValue(uri.Authority, out var peer) ? peer : null;

    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var request = context.InitialRequestMessage;
        request.Options.TryGetValue(AllowLoopback, out var allowLoopback);

        var addresses = await ResolveAsync(endpoint.Host, cancellationToken);
        foreach (var address in addresses)
        {
            if (AddressPolicy.IsBlocked(address) && !(allowLoopback && AddressPolicy.IsLoopback(address) && IsLoopbackHost(endpoint.Host)))
            {
                throw new DestinationBlockedException("The callback host resolves to a blocked address.");
            }
        }

        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                if (socket.RemoteEndPoint is not IPEndPoint peer || !peer.Address.Equals(address))
                {
                    throw new DestinationBlockedException("The connected peer is not the vetted address.");
                }

                var text = address.ToString();
                lastPeer[request.RequestUri?.Authority ?? endpoint.Host] = text;
                if (request.Options.TryGetValue(ConnectedAddress, out var box))
                {
                    box.Value = text;
                }

                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception ex) when (ex is SocketException or DestinationBlockedException)
            {
                socket.Dispose();
                if (ex is DestinationBlockedException)
                {
                    throw;
                }

                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private static bool IsLoopbackHost(string host) =>
        host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && AddressPolicy.IsLoopback(ip));

    private async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }

        // localhost names are never looked up in DNS (§8.2).
        if (host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal))
        {
            return [IPAddress.Loopback, IPAddress.IPv6Loopback];
        }

        var addresses = await resolver(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        return addresses;
    }
}
