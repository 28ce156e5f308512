using Cue.Hosting;
using Cue.Scheduler;

// Content root is the app's own folder, so its appsettings.json applies whatever directory it is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddCueScheduler();

var app = builder.Build();
app.MapCueHealth();
app.Run();
