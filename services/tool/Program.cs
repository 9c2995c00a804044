using Platform.Tool.Apis;
using Platform.Tool.Extensions;

// Before any Regex exists: NJsonSchema matches tenants' schema patterns against callers' arguments with no timeout of
// its own, so the process default bounds each match (a timeout is answered as a 400).
AppDomain.CurrentDomain.SetData("REGEX_DEFAULT_MATCH_TIMEOUT", TimeSpan.FromMilliseconds(200));

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
