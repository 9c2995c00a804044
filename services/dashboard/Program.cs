using Platform.Dashboard.Apis;
using Platform.Dashboard.Components;
using Platform.Dashboard.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseSignInRedirect();
app.MapDefaultEndpoints();
app.UseAntiforgery();

app.MapStaticAssets().AllowAnonymous();
app.MapSessionApi();
app.MapStatusApi();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();
