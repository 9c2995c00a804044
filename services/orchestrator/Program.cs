using Platform.Orchestrator.Apis;
using Platform.Orchestrator.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapTenantsApi();
app.MapApiKeysApi();
app.MapIdentityApi();
app.MapAgentsApi();
app.MapRunsApi();
app.MapWebhooksApi();
app.MapMcpApi();

app.Run();
