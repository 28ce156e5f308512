using System.Net;
using System.Net.Sockets;

namespace Cue.Tests.Infrastructure;

/// <summary>
/// The three Cue services as separate processes on a test database and vhost, with time units shrunk
/// through configuration (backoff "minutes" of one second) so minute-scale behaviour runs in seconds.
/// One stack is shared by the end-to-end tests; tests that stop a service start it again.
/// </summary>
public sealed class CueStack : IAsyncDisposable
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static CueStack? shared;

    private CueStack(IReadOnlyDictionary<string, string> environment, string postgres, OtlpCollector telemetry)
    {
        Postgres = postgres;
        Telemetry = telemetry;
        Environment = environment;
        Api = new CueProcess("Cue.Api", FreePort(), environment);
        Scheduler = new CueProcess("Cue.Scheduler", FreePort(), environment);
        Delivery = new CueProcess("Cue.Delivery", FreePort(), environment);
    }

    public CueProcess Api { get; }
    public CueProcess Scheduler { get; }
    public CueProcess Delivery { get; }
    public string Postgres { get; }

    /// <summary>What the three services export over OTLP (every test's spans, metrics and logs land here).</summary>
    public OtlpCollector Telemetry { get; }
    /// <summary>What every service process of this stack is started with: extra instances (scale-out tests) take the same.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>The settings every test service process gets: the stores, and time units short enough for tests.</summary>
    public static Dictionary<string, string> ServiceEnvironment(string postgres, string rabbit) => new()
    {
        ["ConnectionStrings__Postgres"] = postgres,
        ["ConnectionStrings__RabbitMq"] = rabbit,
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        [TestKeys.MasterKeyVariable] = TestKeys.MasterKey,
        ["Delivery__BackoffUnit"] = "00:00:01",
        ["Dispatch__TickInterval"] = "00:00:00.250",
        ["Dispatch__Lease"] = "00:00:04",
        // Catch-up tests wait out the missed threshold; the contract default (60 s) would make them slow.
        ["Dispatch__MissedAfter"] = "00:00:08",
        ["Logging__LogLevel__Default"] = "Information",
        // The whole suite registers many accounts from 127.0.0.1; the limits' own tests run an API of their own.
        ["Accounts__RateLimitPerMinute"] = "1000000",
        ["RateLimits__AnonymousPerMinute"] = "1000000",
        ["RateLimits__RegisterPerMinute"] = "1000000",
    };

    public static async Task<CueStack> SharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (shared is null)
            {
                var (postgres, rabbit) = await TestServices.GetAsync();
                var telemetry = await OtlpCollector.StartAsync();
                var environment = ServiceEnvironment(postgres, rabbit);
                // Telemetry is on in the test stack, as in production, so every end-to-end test runs with it.
                foreach (var (key, value) in telemetry.Environment)
                {
                    environment[key] = value;
                }

                var stack = new CueStack(environment, postgres, telemetry);
                // The API owns the schema: it goes first.
                await stack.Api.StartAsync();
                await Task.WhenAll(stack.Scheduler.StartAsync(), stack.Delivery.StartAsync());
                shared = stack;
            }

            // A test that stopped a service and failed before restarting it must not break the next one.
            await Task.WhenAll(shared.Api.StartAsync(), shared.Scheduler.StartAsync(), shared.Delivery.StartAsync());
            return shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task DisposeSharedAsync()
    {
        if (shared is not null)
        {
            await shared.DisposeAsync();
            shared = null;
        }
    }

    public string Logs() =>
        $"--- Cue.Api ---\n{Api.LogTail()}\n--- Cue.Scheduler ---\n{Scheduler.LogTail()}\n--- Cue.Delivery ---\n{Delivery.LogTail()}";

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Scheduler.DisposeAsync().AsTask(), Delivery.DisposeAsync().AsTask());
        await Api.DisposeAsync();
        await Telemetry.DisposeAsync();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
