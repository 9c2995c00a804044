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

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c> authentication against the shared key index. A platform admin's key (system
/// tenant, admin scope) may send <see cref="TenantHeader"/> to act as an active tenant; any other key sending it for
/// another tenant is refused with 403 (docs/adr/0006-platform-admin-tenant-switch.md).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyVerifier verifier, ActiveTenants activeTenants)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string CookieName = "platform_api_key";
    public const string TenantClaim = "tenant_id";
    // The key is the principal's subject, under the claim name that libraries binding state to a user look for (the
    // MCP server ties a session to it, so only the key that began a session can use it).
    public const string KeyIdClaim = "sub";
    public const string ScopeClaim = "scope";

    /// <summary>The tenant a platform admin's request acts as.</summary>
    public const string TenantHeader = "Platform-Tenant";

    /// <summary>On a request that acts as another tenant: the key's own tenant, so it stays known who acted.</summary>
    public const string ActingForClaim = "acting_for";

    /// <summary>The tenant the request acts as, so calls to other services act as it too.</summary>
    internal const string ActingTenantItem = "platform.acting_tenant";

    private const string RefusalItem = "platform.tenant_refusal";
    private const int MaxTenantIdLength = 64;

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

        var tenantId = identity.TenantId;
        var requested = Request.Headers[TenantHeader].ToString();
        if (requested.Length > 0 && requested != identity.TenantId)
        {
            if (await TenantSwitchRefusalAsync(identity, requested) is { } refusal)
            {
                Context.Items[RefusalItem] = refusal;
                return AuthenticateResult.Fail(refusal);
            }

            tenantId = requested;
            Context.Items[ActingTenantItem] = requested;
        }

        Context.Items[PresentedKeyItem] = key;
        var claims = new List<Claim> { new(TenantClaim, tenantId), new(KeyIdClaim, identity.KeyId) };
        if (tenantId != identity.TenantId)
        {
            claims.Add(new Claim(ActingForClaim, identity.TenantId));
        }

        claims.AddRange(identity.Scopes.Select(s => new Claim(ScopeClaim, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, KeyIdClaim, null));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    private async Task<string?> TenantSwitchRefusalAsync(ApiKeyIdentity identity, string requested)
    {
        if (identity.TenantId != ApiKeys.SystemTenant || !identity.Scopes.Contains(Scopes.Admin))
        {
            return $"Only a platform admin's key (system tenant, admin scope) may act as another tenant with '{TenantHeader}'.";
        }

        try
        {
            return requested.Length <= MaxTenantIdLength && await activeTenants.ContainsAsync(requested)
                ? null
                : $"Tenant '{(requested.Length <= MaxTenantIdLength ? requested : requested[..MaxTenantIdLength] + "…")}' is unknown, deactivated or deleted.";
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Logger.LogError(e, "Active tenants unavailable");
            return "The platform cannot tell which tenants are active right now.";
        }
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // A key that may not act as the tenant it names is known, so the answer is 403, not a request to authenticate.
        if (Context.Items[RefusalItem] is string refusal)
        {
            return WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", refusal);
        }

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
