using Cue.Api.Hosting;

// Content root is the app's own folder, so its appsettings.json applies whatever directory it is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddCueApi();

var app = builder.Build();
app.MapCueApi();
app.Run();

/// <summary>Entry point type, visible to tests.</summary>
public partial class Program;
