using System.Reflection;

namespace Cue.Hosting;

/// <summary>The running service's version (its informational version without the source hash).</summary>
internal static class ServiceVersion
{
    // This file is compiled into each service, so the assembly is the service's own.
    public static readonly string Current =
        typeof(ServiceVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
