using Platform.Model.Apis;
using Platform.Model.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapModelsApi();
app.MapModelDetailsApi();
app.MapChatCompletionsApi();
app.MapEmbeddingsApi();
app.MapCatalogApi();
app.MapBudgetsApi();
app.MapUsageApi();

app.Run();
