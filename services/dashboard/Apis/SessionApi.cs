using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Dashboard.Session;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Dashboard.Apis;

/// <summary>Signing out and a platform admin's tenant switch; signing in is the <c>/login</c> page (Components/Pages/Login.razor).</summary>
public static partial class SessionApi
{
    public static IEndpointRouteBuilder MapSessionApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/logout", SignOut).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/tenant", SwitchTenant).ExcludeFromDescription();
        return app;
    }

    /// <summary>Takes the form, so the antiforgery token the layout's form carries is checked: no other site signs an operator out.</summary>
    public static RedirectHttpResult SignOut(HttpContext context, IFormCollection form)
    {
        context.Response.Cookies.Delete(ApiKeyAuthenticationHandler.CookieName);
        context.Response.Cookies.Delete(ApiKeyClaimsTransformation.TenantCookie);
        return TypedResults.Redirect("/login");
    }

    /// <summary>
    /// Remembers which tenant a platform admin's views show (the system tenant, or none, goes back to the key's own). The
    /// services decide again on every call whether the key may act as it (docs/adr/0006-platform-admin-tenant-switch.md).
    /// </summary>
    public static Results<RedirectHttpResult, ProblemHttpResult> SwitchTenant(HttpContext context, IFormCollection form)
    {
        if (!context.User.IsPlatformAdmin())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "Only a platform admin (a system tenant key with the admin scope) switches tenants.");
        }

        var tenant = form["tenant"].ToString();
        if (tenant.Length > 0 && !TenantIdPattern().IsMatch(tenant))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid tenant",
                detail: "A tenant id is 2 to 40 lower-case letters, digits or dashes.");
        }

        if (tenant.Length == 0 || tenant == ApiKeys.SystemTenant)
        {
            context.Response.Cookies.Delete(ApiKeyClaimsTransformation.TenantCookie);
        }
        else
        {
            context.Response.Cookies.Append(ApiKeyClaimsTransformation.TenantCookie, tenant, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
            });
        }

        var back = form["returnUrl"].ToString();
        return TypedResults.Redirect(back.StartsWith('/') && !back.StartsWith("//", StringComparison.Ordinal) && !back.StartsWith("/\\", StringComparison.Ordinal) ? back : "/");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,39}$")]
    private static partial Regex TenantIdPattern();
}
