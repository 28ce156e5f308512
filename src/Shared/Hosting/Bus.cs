using MassTransit;
using Microsoft.Extensions.Configuration;

namespace Cue.Hosting;

internal static class Bus
{
    /// <summary>
    /// Points MassTransit at the broker named by <c>ConnectionStrings:RabbitMq</c> (an amqp URI whose
    /// path is the virtual host). Credentials are taken from the URI's user info and never logged.
    /// </summary>
    public static void UseCueHost(this IRabbitMqBusFactoryConfigurator cfg, IConfiguration configuration)
    {
        var uri = Settings.RabbitMq(configuration);
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var userInfo = uri.UserInfo.Split(':', 2);
        var port = uri.IsDefaultPort || uri.Port <= 0 ? (uri.Scheme == "amqps" ? 5671 : 5672) : uri.Port;
        cfg.Host(uri.Host, (ushort)port, string.IsNullOrEmpty(vhost) ? "/" : vhost, h =>
        {
            if (userInfo.Length == 2)
            {
                h.Username(Uri.UnescapeDataString(userInfo[0]));
                h.Password(Uri.UnescapeDataString(userInfo[1]));
            }

            if (uri.Scheme == "amqps")
            {
                h.UseSsl(s => s.Protocol = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
            }

            // Confirms make a publish complete only once the broker has the message: a fire is never
            // advanced past in the due index on the strength of a message the broker never took.
            h.PublisherConfirmation = true;
        });
    }
}
