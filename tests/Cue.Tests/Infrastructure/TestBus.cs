using MassTransit;

namespace Cue.Tests.Infrastructure;

/// <summary>A MassTransit bus on the test vhost, for tests that play a service's part on the real broker.</summary>
public static class TestBus
{
    public static async Task<IBusControl> StartAsync()
    {
        var (_, rabbit) = await TestServices.GetAsync();
        var uri = new Uri(rabbit);
        var user = uri.UserInfo.Split(':', 2);
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(uri.Host, (ushort)(uri.Port > 0 ? uri.Port : 5672), vhost.Length == 0 ? "/" : vhost, h =>
        {
            h.Username(Uri.UnescapeDataString(user[0]));
            h.Password(Uri.UnescapeDataString(user.ElementAtOrDefault(1) ?? ""));
        }));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await bus.StartAsync(timeout.Token);
        return bus;
    }
}
