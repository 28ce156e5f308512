using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MassTransit;
using Microsoft.Extensions.Configuration;

namespace Cue.Hosting;

internal static class Bus
{
    /// <summary>
    /// MassTransit 8.4+ reports anonymous usage to its vendor over HTTPS by default. A self-hosted scheduler
    /// makes no outbound call its operator did not configure (and on closed networks it only logs DNS failures).
    /// </summary>
    public static void DisableVendorTelemetry(this IBusRegistrationConfigurator bus) =>
        bus.ConfigureUsageTelemetryOptions(o => o.Enabled = false);

    /// <summary>
    /// Points MassTransit at the broker named by <c>ConnectionStrings:RabbitMq</c> (an amqp URI whose
    /// path is the virtual host). Credentials are taken from the URI's user info and never logged.
    /// </summary>
    public static void UseCueHost(this IRabbitMqBusFactoryConfigurator cfg, IConfiguration configuration)
    {
        var uri = Settings.RabbitMq(configuration);
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var userInfo = uri.UserInfo.Split(':', 2);
        var port = Settings.RabbitMqPort(uri);
        cfg.Host(uri.Host, (ushort)port, string.IsNullOrEmpty(vhost) ? "/" : vhost, h =>
        {
            if (userInfo.Length == 2)
            {
                h.Username(Uri.UnescapeDataString(userInfo[0]));
                h.Password(Uri.UnescapeDataString(userInfo[1]));
            }

            if (uri.Scheme == "amqps")
            {
                var authority = BrokerAuthority.FromConfiguration(configuration);
                h.UseSsl(s =>
                {
                    s.Protocol = SslProtocols.Tls12 | SslProtocols.Tls13;
                    // The name checked against the broker's certificate is the host of the URI.
                    s.ServerName = uri.Host;
                    if (authority is not null)
                    {
                        s.CertificateValidationCallback = authority.Validate;
                    }
                });
            }

            // Confirms make a publish complete only once the broker has the message: a fire is never
            // advanced past in the due index on the strength of a message the broker never took.
            h.PublisherConfirmation = true;
        });
    }
}

/// <summary>
/// A private certificate authority the broker's certificate must chain to (<c>RabbitMq:CaCertificate</c>, a PEM
/// file), for brokers whose certificates a self-hosted operator issues. Only that root is trusted for the broker:
/// the system's roots are not consulted, and a name mismatch or any other chain error refuses the connection.
/// Without the setting, the system's trust store decides, as for any TLS client.
/// </summary>
internal sealed class BrokerAuthority(X509Certificate2Collection roots)
{
    public const string Key = "RabbitMq:CaCertificate";

    public static BrokerAuthority? FromConfiguration(IConfiguration configuration)
    {
        var path = configuration[Key];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        // A PEM file of one or more roots (a bundle during a CA rollover).
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        return roots.Count > 0
            ? new BrokerAuthority(roots)
            : throw new InvalidOperationException($"Setting '{Key}' names a file with no PEM certificate in it.");
    }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var presented = new X509Certificate2(certificate);
        return custom.Build(presented);
    }
}
