using System.Security.Authentication;

namespace Cue.Api.Hosting;

/// <summary>
/// Contract §10 on the wire: every HTTPS endpoint Kestrel is given (named endpoints such as
/// <c>Kestrel__Endpoints__Https__Url</c> with <c>…__Certificate__Path</c>/<c>…__Password</c>, or an https
/// <c>ASPNETCORE_URLS</c> with a default certificate) speaks TLS 1.2 or 1.3 only, and outside Development
/// HTTPS responses carry HSTS. Plain HTTP endpoints (the local stack, the container's loopback health
/// endpoint) are left exactly as they were: HSTS is only ever sent over HTTPS.
/// </summary>
internal static class Transport
{
    /// <summary>A year, the usual preload-grade value: browsers stop trying plain HTTP for that long.</summary>
    private static readonly TimeSpan HstsMaxAge = TimeSpan.FromDays(365);

    public static WebApplicationBuilder AddCueTransport(this WebApplicationBuilder builder)
    {
        // The default for every HTTPS endpoint, so an endpoint configured without SslProtocols still never
        // negotiates TLS 1.0/1.1. An endpoint's own SslProtocols setting (compose.yaml sets Tls12, Tls13) wins.
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(https => https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13));
        builder.Services.AddHsts(hsts =>
        {
            hsts.MaxAge = HstsMaxAge;
            hsts.IncludeSubDomains = true;
        });
        return builder;
    }

    public static WebApplication UseCueTransport(this WebApplication app)
    {
        // In Development a browser would otherwise pin https for localhost. The middleware itself adds the
        // header only to HTTPS requests (and not for localhost/127.0.0.1/[::1] hosts, its default exclusions).
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        return app;
    }
}
