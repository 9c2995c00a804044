using Platform.Dashboard.Apis;
using Platform.Dashboard.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapSessionPages();
app.MapStatusApi();

app.Run();
