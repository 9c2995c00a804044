using Platform.Tool.Apis;
using Platform.Tool.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapToolsApi();
app.MapInvocationsApi();
app.MapApprovalsApi();
app.MapSettingsApi();
app.MapMcpServersApi();

app.Run();
