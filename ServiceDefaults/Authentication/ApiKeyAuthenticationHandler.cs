using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Http;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Authentication;

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>Also accept the key from a cookie: only the dashboard, whose pages a browser loads, turns this on.</summary>
    public bool AllowCookie { get; set; }
}

/// <summary><c>Authorization: Bearer &lt;key&gt;</c> authentication against the shared key index.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyVerifier verifier)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string CookieName = "platform_api_key";
    public const string TenantClaim = "tenant_id";
    public const string KeyIdClaim = "key_id";
    public const string ScopeClaim = "scope";

    /// <summary>Where the presented key is kept for the request, so calls to other services can carry it on.</summary>
    internal const string PresentedKeyItem = "platform.api_key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = PresentedKey();
        if (key is null)
        {
            return AuthenticateResult.NoResult();
        }

        ApiKeyIdentity? identity;
        try
        {
            identity = await verifier.VerifyAsync(key);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Logger.LogError(e, "API key index unavailable");
            return AuthenticateResult.Fail("The key index is unavailable.");
        }

        if (identity is null)
        {
            return AuthenticateResult.Fail("Unknown, expired or revoked API key.");
        }

        Context.Items[PresentedKeyItem] = key;
        var claims = new List<Claim> { new(TenantClaim, identity.TenantId), new(KeyIdClaim, identity.KeyId) };
        claims.AddRange(identity.Scopes.Select(s => new Claim(ScopeClaim, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, KeyIdClaim, null));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            PresentedKey() is null ? "Send an API key as 'Authorization: Bearer <key>'." : "The API key is unknown, expired or revoked.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "The API key lacks the scope this endpoint requires.");

    private string? PresentedKey()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7)
        {
            return header[7..].Trim();
        }

        return Options.AllowCookie && Request.Cookies.TryGetValue(CookieName, out var cookie) && !string.IsNullOrEmpty(cookie) ? cookie : null;
    }

    private Task WriteProblemAsync(int status, string title, string detail) => ErrorResponses.WriteAsync(Context, status, title, detail);
}
