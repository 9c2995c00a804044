using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Dashboard.Apis;

/// <summary>Sign-in with an API key, kept in an HttpOnly, SameSite=Strict cookie so scripts and other sites cannot use it.</summary>
public static class SessionPages
{
    public static IEndpointRouteBuilder MapSessionPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", LoginPage).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/login", SignIn).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        app.MapPost("/logout", SignOut).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    public static ContentHttpResult LoginPage() => TypedResults.Content(Pages.Login(error: null), "text/html; charset=utf-8");

    public static async Task<Results<RedirectHttpResult, ContentHttpResult>> SignIn(HttpContext context, ApiKeyVerifier verifier)
    {
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
        var key = form?["apiKey"].ToString().Trim();
        if (string.IsNullOrEmpty(key) || await verifier.VerifyAsync(key) is null)
        {
            return TypedResults.Content(Pages.Login("That API key is unknown, expired or revoked."), "text/html; charset=utf-8",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        context.Response.Cookies.Append(ApiKeyAuthenticationHandler.CookieName, key, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
        });
        return TypedResults.Redirect("/");
    }

    public static RedirectHttpResult SignOut(HttpContext context)
    {
        context.Response.Cookies.Delete(ApiKeyAuthenticationHandler.CookieName);
        return TypedResults.Redirect("/login");
    }
}
