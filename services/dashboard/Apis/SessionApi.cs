using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Dashboard.Apis;

/// <summary>Signing out; signing in is the <c>/login</c> page (Components/Pages/Login.razor).</summary>
public static class SessionApi
{
    public static IEndpointRouteBuilder MapSessionApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/logout", SignOut).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>Takes the form, so the antiforgery token the layout's form carries is checked: no other site signs an operator out.</summary>
    public static RedirectHttpResult SignOut(HttpContext context, IFormCollection form)
    {
        context.Response.Cookies.Delete(ApiKeyAuthenticationHandler.CookieName);
        return TypedResults.Redirect("/login");
    }
}
