using Cue.Api.Hosting;

// `Cue.Api projections rebuild` is an operator's command run with the API's configuration, not a web host.
if (ProjectionRebuild.IsCommand(args))
{
    return await ProjectionRebuild.RunAsync(args);
}

// `Cue.Api keys rotate` re-wraps the data keys under a new master key (services stopped).
if (KeyRotationCommand.IsCommand(args))
{
    return await KeyRotationCommand.RunAsync(args);
}

// Content root is the app's own folder, so its appsettings.json applies whatever directory it is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddCueApi();

var app = builder.Build();
app.MapCueApi();
await app.RunAsync();
return 0;

/// <summary>Entry point type, visible to tests.</summary>
public partial class Program;
