using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Cue.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Cue.Tests.Deploy;

/// <summary>
/// compose.yaml as a compose implementation resolves it (<c>config</c>: merged, interpolated, validated),
/// checked against what a production stack needs. No engine runs here, so images are not built; what
/// they run is read from deploy/Dockerfile and checked against the projects and their build output.
/// </summary>
[TestFixture]
public sealed class Compose_file
{
    private static readonly string[] AppServices = ["api", "scheduler", "delivery"];
    private string scratch = "";
    private IReadOnlyDictionary<string, string> variables = new Dictionary<string, string>();
    private YamlMappingNode config = null!;

    private YamlMappingNode Services => Map(config, "services");

    [OneTimeSetUp]
    public async Task ResolveAsync()
    {
        scratch = Path.Combine(TestContext.CurrentContext.WorkDirectory, "compose-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        variables = ComposeCli.RequiredVariables(scratch);
        var result = await ComposeCli.ConfigAsync(variables);
        Assert.That(result.ExitCode, Is.Zero, $"compose config rejected compose.yaml:\n{result.Error}");
        config = ComposeCli.Parse(result.Output);
    }

    [OneTimeTearDown]
    public void RemoveScratch()
    {
        if (Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Test]
    public void Runs_postgres_rabbitmq_and_the_three_services()
    {
        Assert.That(Services.Children.Keys.Select(Text), Is.EquivalentTo(new[] { "postgres", "rabbitmq", "api", "scheduler", "delivery" }));
        Assert.That(Text(Get(Map(Services, "rabbitmq"), "image")), Does.EndWith("-management"), "RabbitMQ with its management console");
    }

    [Test]
    public void Every_service_has_a_health_check()
    {
        Assert.Multiple(() =>
        {
            foreach (var (name, service) in EachService())
            {
                var check = Get(service, "healthcheck") as YamlMappingNode;
                Assert.That(check, Is.Not.Null, $"{name} has no healthcheck");
                if (check is null)
                {
                    continue;
                }

                Assert.That(Text(Get(check, "disable")), Is.Not.EqualTo("true"), $"{name}'s healthcheck is disabled");
                switch (Get(check, "test"))
                {
                    case YamlSequenceNode sequence:
                        Assert.That(Text(sequence.Children.FirstOrDefault()), Is.AnyOf("CMD", "CMD-SHELL"), $"{name}'s healthcheck test");
                        Assert.That(sequence.Children, Has.Count.GreaterThan(1), $"{name}'s healthcheck runs nothing");
                        break;
                    case var shell:
                        Assert.That(Text(shell), Is.Not.Null.And.Not.Empty.And.Not.EqualTo("NONE"), $"{name}'s healthcheck runs nothing");
                        break;
                }
            }
        });
    }

    [Test]
    public void Every_service_starts_only_once_what_it_needs_is_healthy()
    {
        var expected = new Dictionary<string, string[]>
        {
            ["api"] = ["postgres", "rabbitmq"],
            // the API creates the schema the scheduler and delivery read
            ["scheduler"] = ["postgres", "rabbitmq", "api"],
            ["delivery"] = ["postgres", "rabbitmq", "api"],
        };
        Assert.Multiple(() =>
        {
            foreach (var (name, service) in EachService())
            {
                var dependsOn = Get(service, "depends_on");
                if (!expected.TryGetValue(name, out var needs))
                {
                    Assert.That(dependsOn, Is.Null, $"{name} depends on something");
                    continue;
                }

                Assert.That(dependsOn, Is.InstanceOf<YamlMappingNode>(), $"{name}: depends_on must be the long form with conditions");
                if (dependsOn is not YamlMappingNode map)
                {
                    continue;
                }

                Assert.That(map.Children.Keys.Select(Text), Is.EquivalentTo(needs), $"{name} depends on");
                foreach (var (dependency, settings) in map.Children)
                {
                    Assert.That(Text(Get((YamlMappingNode)settings, "condition")), Is.EqualTo("service_healthy"), $"{name} → {Text(dependency)}");
                    Assert.That(Get(Map(Services, Text(dependency)!), "healthcheck"), Is.Not.Null, $"{name} waits for {Text(dependency)}, which has no healthcheck");
                }
            }
        });
    }

    [Test]
    public void No_service_runs_as_root()
    {
        Assert.Multiple(() =>
        {
            foreach (var (name, service) in EachService())
            {
                var user = Text(Get(service, "user"));
                if (user is null)
                {
                    Assert.That(Get(service, "build"), Is.Not.Null, $"{name} sets no user and runs an image whose user this test cannot see");
                    if (Get(service, "build") is not YamlMappingNode build)
                    {
                        continue;
                    }

                    var dockerfile = Dockerfile.Read(DockerfilePath(build));
                    user = dockerfile.User;
                    Assert.That(user, Is.Not.Null, $"{name}: the final stage of its Dockerfile has no USER");
                    if (user is "$APP_UID" or "${APP_UID}")
                    {
                        // APP_UID (1654, user "app") comes from Microsoft's .NET base images only.
                        Assert.That(dockerfile.BaseImage, Does.StartWith("mcr.microsoft.com/dotnet/"), $"{name}: USER $APP_UID on an image that does not define it");
                    }
                }

                Assert.That(user, Is.Not.Null.And.Not.AnyOf("root", "0").And.Not.StartWith("root:").And.Not.StartWith("0:"), $"{name} runs as root");
            }
        });
    }

    [Test]
    public void Every_image_runs_the_assembly_of_a_project_under_src_that_builds()
    {
        var projects = new List<string>();
        Assert.Multiple(() =>
        {
            foreach (var name in AppServices)
            {
                var build = Get(Map(Services, name), "build") as YamlMappingNode;
                Assert.That(build, Is.Not.Null, $"{name} is not built from this repository");
                if (build is null)
                {
                    continue;
                }

                Assert.That(Path.TrimEndingDirectorySeparator(Text(Get(build, "context"))!), Is.EqualTo(Paths.RepositoryRoot), $"{name}'s build context");
                var project = Text(Get(Map(build, "args"), "PROJECT"));
                Assert.That(project, Is.Not.Null, $"{name} has no PROJECT build arg");
                if (project is null)
                {
                    continue;
                }

                projects.Add(project);
                var csproj = Path.Combine(Paths.RepositoryRoot, "src", project, project + ".csproj");
                Assert.That(File.Exists(csproj), Is.True, $"{name}: PROJECT={project} names no project ({csproj})");
                if (!File.Exists(csproj))
                {
                    continue;
                }

                var assembly = XDocument.Load(csproj).Descendants("AssemblyName").Select(e => e.Value).FirstOrDefault() ?? project;
                var dockerfile = Dockerfile.Read(DockerfilePath(build));
                Assert.That(dockerfile.DllFor(project), Is.EqualTo(assembly + ".dll"), $"{name}: the dll its image's entrypoint runs");
                Assert.That(dockerfile.EntrypointRunsTheDll(), Is.True, $"{name}: the image's ENTRYPOINT does not exec dotnet \"/app/$CUE_DLL\"");
                var built = Path.Combine(Paths.RepositoryRoot, "src", project, "bin", Paths.Configuration, "net10.0", assembly + ".dll");
                Assert.That(File.Exists(built), Is.True, $"{name}: {project} did not build to {built}");
            }
        });
        Assert.That(projects, Is.EquivalentTo(new[] { "Cue.Api", "Cue.Scheduler", "Cue.Delivery" }));
    }

    [Test]
    public void The_api_serves_TLS_1_2_or_later_with_a_certificate_from_a_secret()
    {
        var api = Map(Services, "api");
        var environment = EnvironmentOf(api);
        var url = environment.GetValueOrDefault("Kestrel__Endpoints__Https__Url");
        Assert.That(url, Does.StartWith("https://"), "the API's HTTPS endpoint");
        var port = int.Parse(Regex.Match(url ?? "", @":(\d+)$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(Get(api, "ports") is YamlSequenceNode ports ? ports.Children.Select(TargetPort) : [], Is.EqualTo(new[] { port }), "the API publishes its HTTPS port and nothing else");

        Assert.That(Enumerable.Range(0, 4).Select(i => environment.GetValueOrDefault($"Kestrel__Endpoints__Https__SslProtocols__{i}")).OfType<string>(),
            Is.Not.Empty.And.SubsetOf(new[] { "Tls12", "Tls13" }), "TLS versions");
        AssertFromSecret(api, environment.GetValueOrDefault("Kestrel__Endpoints__Https__Certificate__Path"), variables["CUE_TLS_CERTIFICATE"], "the certificate");
        Assert.That(environment.GetValueOrDefault("Kestrel__Endpoints__Https__Certificate__Password"), Is.EqualTo(variables["CUE_TLS_CERTIFICATE_PASSWORD"]),
            "the certificate's password comes from the environment");

        // Every other endpoint is plain HTTP for the health check, inside the container only.
        foreach (var (key, value) in environment.Where(e => Regex.IsMatch(e.Key, @"^Kestrel__Endpoints__\w+__Url$") && e.Key != "Kestrel__Endpoints__Https__Url"))
        {
            Assert.That(value, Does.StartWith("http://127.0.0.1:").Or.StartWith("https://"), $"{key} listens beyond the container's loopback without TLS");
        }
    }

    [Test]
    public void The_encryption_master_key_reaches_api_and_delivery_only_as_a_secret_file()
    {
        Assert.Multiple(() =>
        {
            foreach (var name in new[] { "api", "delivery" })
            {
                var service = Map(Services, name);
                AssertFromSecret(service, EnvironmentOf(service).GetValueOrDefault("Encryption__MasterKey_FILE"), variables["CUE_ENCRYPTION_MASTER_KEY_FILE"], $"{name}'s Encryption__MasterKey");
            }

            foreach (var (name, service) in EachService())
            {
                Assert.That(EnvironmentOf(service).Keys, Has.None.EqualTo("Encryption__MasterKey"), $"{name} has the master key itself in its environment");
            }

            Assert.That(SecretsOf(Map(Services, "scheduler")), Is.Empty, "the scheduler holds no payloads and needs no key");
        });
    }

    [Test]
    public async Task OpenTelemetry_settings_pass_through_and_each_service_names_itself()
    {
        Assert.That(AppServices.Select(s => EnvironmentOf(Map(Services, s)).GetValueOrDefault("OTEL_SERVICE_NAME")), Is.EqualTo(new[] { "cue-api", "cue-scheduler", "cue-delivery" }));
        Assert.That(AppServices.Select(s => EnvironmentOf(Map(Services, s)).GetValueOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT")), Is.All.Null,
            "an OTEL variable the operator did not set must stay unset: an empty endpoint is not 'no endpoint' to every SDK");

        var withCollector = new Dictionary<string, string>(variables) { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4317", ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc" };
        var result = await ComposeCli.ConfigAsync(withCollector);
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        var services = Map(ComposeCli.Parse(result.Output), "services");
        foreach (var name in AppServices)
        {
            var environment = EnvironmentOf(Map(services, name));
            Assert.That(environment.GetValueOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT"), Is.EqualTo("http://collector:4317"), name);
            Assert.That(environment.GetValueOrDefault("OTEL_EXPORTER_OTLP_PROTOCOL"), Is.EqualTo("grpc"), name);
        }
    }

    [TestCase("CUE_POSTGRES_PASSWORD")]
    [TestCase("CUE_RABBITMQ_PASSWORD")]
    [TestCase("CUE_TLS_CERTIFICATE")]
    [TestCase("CUE_TLS_CERTIFICATE_PASSWORD")]
    [TestCase("CUE_ENCRYPTION_MASTER_KEY_FILE")]
    public async Task Refuses_to_resolve_without(string variable)
    {
        var without = variables.Where(v => v.Key != variable).ToDictionary();
        var result = await ComposeCli.ConfigAsync(without);
        Assert.That(result.ExitCode, Is.Not.Zero, $"compose.yaml resolved without {variable}: it has a default, or is not used");
        Assert.That(result.Error, Does.Contain(variable), "the error names what is missing");
    }

    private IEnumerable<(string Name, YamlMappingNode Service)> EachService() =>
        Services.Children.Select(c => (Text(c.Key)!, (YamlMappingNode)c.Value));

    /// <summary>The setting is <c>/run/secrets/NAME</c>, the service mounts NAME, and NAME is the file the operator named.</summary>
    private void AssertFromSecret(YamlMappingNode service, string? setting, string hostFile, string what)
    {
        Assert.That(setting, Does.StartWith("/run/secrets/"), $"{what} is not read from a mounted secret");
        var secret = setting?["/run/secrets/".Length..] ?? "";
        Assert.That(SecretsOf(service), Does.Contain(secret), $"{what}: the service does not mount secret {secret}");
        Assert.That(Text(Get(Map(Map(config, "secrets"), secret), "file")), Is.EqualTo(hostFile), $"{what}: secret {secret} is not the operator's file");
    }

    private static List<string> SecretsOf(YamlMappingNode service) =>
        Get(service, "secrets") is YamlSequenceNode list
            ? [.. list.Children.Select(s => s is YamlMappingNode m ? Text(Get(m, "source"))! : Text(s)!)]
            : [];

    private static Dictionary<string, string?> EnvironmentOf(YamlMappingNode service) => Get(service, "environment") switch
    {
        YamlMappingNode map => map.Children.ToDictionary(e => Text(e.Key)!, e => Text(e.Value)),
        YamlSequenceNode list => list.Children.Select(Text).OfType<string>().Select(e => e.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : null),
        _ => [],
    };

    private static int TargetPort(YamlNode port) => port switch
    {
        YamlMappingNode map => int.Parse(Text(Get(map, "target"))!, System.Globalization.CultureInfo.InvariantCulture),
        _ => int.Parse(Text(port)!.Split('/')[0].Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string DockerfilePath(YamlMappingNode build) =>
        Path.Combine(Text(Get(build, "context"))!, Text(Get(build, "dockerfile")) ?? "Dockerfile");

    private static YamlMappingNode Map(YamlMappingNode node, string key) =>
        Get(node, key) as YamlMappingNode ?? throw new AssertionException($"no mapping '{key}' in the resolved compose file");

    private static YamlNode? Get(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>A scalar's text; YAML's null (docker-compose 1.29 prints unset pass-through variables so) is null.</summary>
    private static string? Text(YamlNode? node) => node switch
    {
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: "null" or "~" or "" or null } => null,
        YamlScalarNode scalar => scalar.Value,
        _ => null,
    };

    /// <summary>The final (runtime) stage of a Dockerfile, read as far as these checks need.</summary>
    private sealed record Dockerfile(string Path, string Runtime)
    {
        public static Dockerfile Read(string path)
        {
            var text = File.ReadAllText(path);
            var lastFrom = Regex.Matches(text, @"^FROM\s", RegexOptions.Multiline | RegexOptions.IgnoreCase).Last();
            return new Dockerfile(path, text[lastFrom.Index..]);
        }

        public string BaseImage => Regex.Match(Runtime, @"^FROM\s+(\S+)", RegexOptions.IgnoreCase).Groups[1].Value;

        public string? User => Regex.Matches(Runtime, @"^USER\s+(\S+)", RegexOptions.Multiline | RegexOptions.IgnoreCase).LastOrDefault()?.Groups[1].Value;

        /// <summary>The value of <c>CUE_DLL</c> in the runtime stage, with the PROJECT build arg put in.</summary>
        public string? DllFor(string project)
        {
            var match = Regex.Match(Runtime, @"\bCUE_DLL=(\S+)");
            return match.Success ? match.Groups[1].Value.Replace("${PROJECT}", project, StringComparison.Ordinal).Replace("$PROJECT", project, StringComparison.Ordinal) : null;
        }

        /// <summary>The ENTRYPOINT is a script copied from the repository that execs <c>dotnet "/app/$CUE_DLL"</c>.</summary>
        public bool EntrypointRunsTheDll()
        {
            var entrypoint = Regex.Match(Runtime, @"^ENTRYPOINT\s+(\[.*\])\s*$", RegexOptions.Multiline);
            if (!entrypoint.Success)
            {
                return false;
            }

            var script = JsonSerializer.Deserialize<string[]>(entrypoint.Groups[1].Value)![^1];
            var copy = Regex.Match(Runtime, @"^COPY\s+(\S+)\s+" + Regex.Escape(script) + @"\s*$", RegexOptions.Multiline);
            if (!copy.Success)
            {
                return false;
            }

            var source = System.IO.Path.Combine(Paths.RepositoryRoot, copy.Groups[1].Value);
            return File.Exists(source) && File.ReadAllText(source).Contains("exec dotnet \"/app/$CUE_DLL\"", StringComparison.Ordinal);
        }
    }
}
