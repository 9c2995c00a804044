using Platform.Planning.Apis;
using Platform.Planning.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapPlansApi();
app.MapRevisionsApi();

app.Run();
