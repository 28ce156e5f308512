using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cue.Tests.Infrastructure;

/// <summary>
/// A certificate authority made by the test, and a server certificate it issued for 127.0.0.1: what an
/// operator with a private CA gives PostgreSQL and RabbitMQ.
/// </summary>
public sealed class TestAuthority : IDisposable
{
    private readonly RSA caKey = RSA.Create(2048);
    private readonly RSA serverKey = RSA.Create(2048);

    public TestAuthority(string commonName)
    {
        var caRequest = new CertificateRequest($"CN={commonName}", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        Root = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        Server = serverRequest.Create(Root, now.AddMinutes(-5), now.AddHours(12), RandomNumberGenerator.GetBytes(12));
    }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Server { get; }

    /// <summary>Writes ca.pem, server.pem and server.key (mode 600) into <paramref name="directory"/>.</summary>
    public void WriteTo(string directory)
    {
        File.WriteAllText(Path.Combine(directory, "ca.pem"), Root.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server.pem"), Server.ExportCertificatePem());
        var key = Path.Combine(directory, "server.key");
        File.WriteAllText(key, serverKey.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public void Dispose()
    {
        Root.Dispose();
        Server.Dispose();
        caKey.Dispose();
        serverKey.Dispose();
    }
}

/// <summary>Runs a command and throws with its output when it fails.</summary>
internal static class Shell
{
    public static async Task<string> RunAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await output}\n{await error}");
        }

        return await output;
    }
}

/// <summary>
/// A PostgreSQL 15 cluster of the test's own (run as the <c>postgres</c> OS user, on a free loopback port), which
/// the test may stop and start. With a <see cref="TestAuthority"/> it accepts TCP clients only over TLS: a plain
/// connection is rejected by <c>pg_hba.conf</c>, so any client that gets in came over TLS.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string directory;
    private readonly string data;

    private PrivatePostgres(string directory, int port, string password)
    {
        this.directory = directory;
        data = Path.Combine(directory, "data");
        Port = port;
        Password = password;
    }

    public int Port { get; }

    public string Password { get; }

    public string CaPath => Path.Combine(directory, "ca.pem");

    /// <summary>The plain connection string a Cue service gets.</summary>
    public string ConnectionString() => $"Host=127.0.0.1;Port={Port};Database=cue;Username=cue;Password={Password}";

    /// <summary>The connection string a Cue service gets: TLS required, server certificate verified against <paramref name="caPath"/>.</summary>
    public string ConnectionString(string caPath) => $"{ConnectionString()};SSL Mode=VerifyFull;Root Certificate={caPath}";

    public static async Task<PrivatePostgres> StartAsync(TestAuthority? tls = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"cue-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        tls?.WriteTo(directory);
        var server = new PrivatePostgres(directory, CueStack.FreePort(), Convert.ToHexString(RandomNumberGenerator.GetBytes(12)));
        await Shell.RunAsync("chown", ["-R", "postgres:postgres", directory]);
        await server.AsPostgresAsync($"{Bin}/initdb", "-D", server.data, "-U", "postgres", "--auth-local=trust", "--auth-host=reject", "--no-sync");
        await File.AppendAllTextAsync(Path.Combine(server.data, "postgresql.conf"), $"""

            listen_addresses = '127.0.0.1'
            port = {server.Port}
            unix_socket_directories = '{directory}'
            max_connections = 200
            fsync = off
            """);
        if (tls is not null)
        {
            await File.AppendAllTextAsync(Path.Combine(server.data, "postgresql.conf"), $"""

                ssl = on
                ssl_cert_file = '{directory}/server.pem'
                ssl_key_file = '{directory}/server.key'
                ssl_min_protocol_version = 'TLSv1.2'
                """);
        }

        await File.WriteAllTextAsync(Path.Combine(server.data, "pg_hba.conf"), tls is null
            ? """
              local     all all             trust
              host      all all 127.0.0.1/32 scram-sha-256
              """
            : """
              local     all all             trust
              hostssl   all all 127.0.0.1/32 scram-sha-256
              hostnossl all all 0.0.0.0/0    reject
              """);
        await server.StartAgainAsync();
        await server.PsqlAsync($"create role cue login password '{server.Password}'");
        await server.PsqlAsync("create database cue owner cue");
        return server;
    }

    /// <summary>Runs one statement as the superuser over the cluster's Unix socket; returns its unaligned output.</summary>
    public Task<string> PsqlAsync(string sql) =>
        AsPostgresAsync($"{Bin}/psql", "-X", "-q", "-t", "-A", "-h", directory, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres", "-c", sql);

    /// <summary>Stops the cluster at once, as a crash or a failover would: every session is cut.</summary>
    public Task StopAsync() => AsPostgresAsync($"{Bin}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop");

    public Task StartAgainAsync() =>
        AsPostgresAsync($"{Bin}/pg_ctl", "-D", data, "-l", Path.Combine(directory, "postgres.log"), "-w", "-t", "60", "start");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
        }

        Directory.Delete(directory, recursive: true);
    }

    private Task<string> AsPostgresAsync(string file, params string[] arguments) =>
        Shell.RunAsync("runuser", ["-u", "postgres", "--", file, .. arguments], workingDirectory: directory);
}

/// <summary>
/// A RabbitMQ node of the test's own on a free loopback port, which the test may stop and start. With a
/// <see cref="TestAuthority"/> it has no plain AMQP listener at all: only a TLS listener serving the
/// authority's certificate.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private const string Bin = "/usr/lib/rabbitmq/bin";
    private readonly string directory;
    private readonly Dictionary<string, string> environment;

    private PrivateRabbitMq(string directory, int port, string password, bool tls)
    {
        this.directory = directory;
        Port = port;
        Password = password;
        Tls = tls;
        var node = $"cuetest{port}@localhost";
        environment = new Dictionary<string, string>
        {
            ["HOME"] = Path.Combine(directory, "home"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(directory, "rabbitmq-env.conf"),
            ["RABBITMQ_NODENAME"] = node,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_DIST_PORT"] = CueStack.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log"),
            ["RABBITMQ_LOGS"] = "-",
            ["RABBITMQ_PID_FILE"] = Path.Combine(directory, "rabbitmq.pid"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(directory, "rabbitmq.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(directory, "enabled_plugins"),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            ["RABBITMQ_CTL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
        };
        Node = node;
    }

    public int Port { get; }

    public string Password { get; }

    public string Node { get; }

    public bool Tls { get; }

    public string Uri => $"{(Tls ? "amqps" : "amqp")}://cue:{Password}@127.0.0.1:{Port}/";

    public string CaPath => Path.Combine(directory, "ca.pem");

    public static async Task<PrivateRabbitMq> StartAsync(TestAuthority? tls = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"cue-rmq-{Guid.NewGuid():N}");
        foreach (var sub in new[] { "home", "mnesia", "log" })
        {
            Directory.CreateDirectory(Path.Combine(directory, sub));
        }

        // The cookie is written before anything starts: left to Erlang, the server and the first rabbitmqctl
        // may each create a different one, and every CLI call is then refused ("Invalid challenge reply").
        var cookie = Path.Combine(directory, "home", ".erlang.cookie");
        await File.WriteAllTextAsync(cookie, Convert.ToHexString(RandomNumberGenerator.GetBytes(20)));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(cookie, UnixFileMode.UserRead);
        }
        tls?.WriteTo(directory);
        var node = new PrivateRabbitMq(directory, CueStack.FreePort(), Convert.ToHexString(RandomNumberGenerator.GetBytes(12)), tls is not null);
        await File.WriteAllTextAsync(Path.Combine(directory, "rabbitmq-env.conf"), "");
        await File.WriteAllTextAsync(Path.Combine(directory, "enabled_plugins"), "[].\n");
        var listeners = tls is null
            ? $"listeners.tcp.default = 127.0.0.1:{node.Port}"
            : $"""
              listeners.tcp = none
              listeners.ssl.default = 127.0.0.1:{node.Port}
              ssl_options.cacertfile = {directory}/ca.pem
              ssl_options.certfile = {directory}/server.pem
              ssl_options.keyfile = {directory}/server.key
              ssl_options.verify = verify_none
              ssl_options.fail_if_no_peer_cert = false
              ssl_options.versions.1 = tlsv1.3
              ssl_options.versions.2 = tlsv1.2
              """;
        await File.WriteAllTextAsync(Path.Combine(directory, "rabbitmq.conf"), $"""
            {listeners}
            default_user = cue
            default_pass = {node.Password}
            default_vhost = /
            default_permissions.configure = .*
            default_permissions.read = .*
            default_permissions.write = .*
            """);
        try
        {
            await node.StartAgainAsync();
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    public async Task StartAgainAsync()
    {
        // setsid and every descriptor redirected: the node must not hold the test runner's pipes open.
        await Shell.RunAsync("bash", ["-c", $"setsid {Bin}/rabbitmq-server </dev/null >>'{directory}/node.log' 2>&1 &"], environment, directory);
        try
        {
            await CtlAsync("wait", "--timeout", "90", Path.Combine(directory, "rabbitmq.pid"));
        }
        catch (InvalidOperationException ex)
        {
            var log = File.Exists(Path.Combine(directory, "node.log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "node.log")) : "";
            throw new InvalidOperationException($"{ex.Message}\nnode log:\n{log[Math.Max(0, log.Length - 4000)..]}", ex);
        }
    }

    /// <summary>Stops the whole node (the Erlang VM exits): every connection is cut and the port closes.</summary>
    public Task StopAsync() => CtlAsync("stop", Path.Combine(directory, "rabbitmq.pid"));

    public Task<string> CtlAsync(params string[] arguments) =>
        Shell.RunAsync($"{Bin}/rabbitmqctl", ["-q", "-n", Node, .. arguments], environment, directory);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            KillFromPidFile();
        }

        Directory.Delete(directory, recursive: true);
    }

    /// <summary>When the CLI cannot reach the node, the node is ended by its process id, so no test leaves it running.</summary>
    private void KillFromPidFile()
    {
        var pidFile = Path.Combine(directory, "rabbitmq.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}
