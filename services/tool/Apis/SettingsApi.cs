using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Net;
using Platform.Tool.Net;
using Platform.ServiceDefaults.Http;

namespace Platform.Tool.Apis;

public static partial class SettingsApi
{
    public static IEndpointRouteBuilder MapSettingsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tool-settings").WithTags("Tool settings").RequireScope(Scopes.Admin);

        api.MapGet("/http-allowlist", GetAllowlist);
        api.MapPut("/http-allowlist", PutAllowlist);
        api.MapGet("/private-grants", GetPrivateGrants);
        api.MapPut("/private-grants", PutPrivateGrants);
        api.MapGet("/secrets", ListSecrets);
        api.MapPut("/secrets/{name}", PutSecret);
        api.MapDelete("/secrets/{name}", DeleteSecret);

        return app;
    }

    public static async Task<Ok<AllowlistDto>> GetAllowlist(HttpContext context, HttpAllowlist allowlist) =>
        TypedResults.Ok(AllowlistDto.From((await allowlist.PolicyAsync(context.User.TenantId())).Allowed));

    /// <summary>The private destinations the platform operator granted this tenant; a tenant's admin may read them.</summary>
    public static async Task<Ok<AllowlistDto>> GetPrivateGrants(HttpContext context, HttpAllowlist allowlist) =>
        TypedResults.Ok(AllowlistDto.From((await allowlist.PolicyAsync(context.User.TenantId())).PrivateGrants));

    /// <summary>Secret names only: values are written and used, never shown.</summary>
    public static async Task<Ok<IReadOnlyList<string>>> ListSecrets(HttpContext context, SecretStore secrets) =>
        TypedResults.Ok(await secrets.NamesAsync(context.User.TenantId()));

    /// <summary>Sets a secret; its value, used only in HTTP headers, is printable ASCII as headers carry it.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> PutSecret(string name, SecretRequest request, HttpContext context, SecretStore secrets)
    {
        var errors = new Dictionary<string, string[]>();
        if (!SecretName().IsMatch(name))
        {
            errors["name"] = ["1 to 64 letters, digits, '_' or '-'."];
        }

        if (request.Value is not { Length: > 0 and <= 10_000 } value || !ToolValidation.IsHeaderText(value))
        {
            errors["value"] = ["1 to 10000 printable ASCII characters (no line breaks): the value goes into HTTP headers."];
        }

        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        await secrets.PutAsync(context.User.TenantId(), name, request.Value!);
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, NotFound>> DeleteSecret(string name, HttpContext context, SecretStore secrets) =>
        await secrets.DeleteAsync(context.User.TenantId(), name) ? TypedResults.NoContent() : TypedResults.NotFound();

    /// <summary>
    /// The hosts (optionally <c>host:port</c>) this tenant's HTTP calls may reach. Empty: any public host. The list only
    /// narrows: a private, loopback or internal host is refused here, and a listed host that resolves to such an address
    /// is refused when called, unless the platform operator granted it (<see cref="PutPrivateGrants"/>).
    /// </summary>
    public static async Task<Results<Ok<AllowlistDto>, ValidationProblem>> PutAllowlist(AllowlistDto request, HttpContext context, HttpAllowlist allowlist)
    {
        if (HostsProblem(request) is { } problem)
        {
            return problem;
        }

        var internalHosts = request.Hosts!.Where(h => OutboundGuard.IsInternalHost(h.Split(':')[0])).ToList();
        if (internalHosts.Count > 0)
        {
            return ValidationProblems.For("hosts", $"Private, loopback and internal hosts are the platform operator's to grant, not a tenant's to list: {Shortened(internalHosts)}. A platform admin grants them with PUT /v1/tool-settings/private-grants.");
        }

        await allowlist.ReplaceAllowlistAsync(context.User.TenantId(), request.Hosts!);
        return TypedResults.Ok(AllowlistDto.From((await allowlist.PolicyAsync(context.User.TenantId())).Allowed));
    }

    /// <summary>
    /// Lets the tenant reach these hosts although they resolve to private, loopback or link-local addresses (an
    /// on-premises API, a model server on the cluster's network). Only the platform operator decides this: a platform
    /// admin's key, for the system tenant or acting as the tenant with <c>Platform-Tenant</c>.
    /// </summary>
    public static async Task<Results<Ok<AllowlistDto>, ValidationProblem, ProblemHttpResult>> PutPrivateGrants(
        AllowlistDto request, HttpContext context, HttpAllowlist allowlist)
    {
        if (!context.User.IsPlatformOperator())
        {
            return TypedResults.Problem("Only the platform operator (a platform admin's key, acting as the tenant with 'Platform-Tenant') grants private destinations.",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        if (HostsProblem(request) is { } problem)
        {
            return problem;
        }

        await allowlist.ReplaceGrantsAsync(context.User.TenantId(), request.Hosts!, context.User.KeyId());
        return TypedResults.Ok(AllowlistDto.From((await allowlist.PolicyAsync(context.User.TenantId())).PrivateGrants));
    }

    private static ValidationProblem? HostsProblem(AllowlistDto request)
    {
        var invalid = (request.Hosts ?? []).Where(h => !IsHostEntry(h)).Select(h => h ?? "null").ToList();
        return request.Hosts is null || request.Hosts.Length > 1000 || invalid.Count > 0
            ? ValidationProblems.For("hosts", $"At most 1000 host names or host:port entries; invalid: {Shortened(invalid)}")
            : null;
    }

    private static string Shortened(IEnumerable<string> hosts) =>
        string.Join(", ", hosts.Take(20).Select(h => h.Length > 100 ? h[..100] + "…" : h));

    private static bool IsHostEntry(string? entry)
    {
        if (entry is not { Length: > 0 and <= 260 })
        {
            return false;
        }

        var parts = entry.Split(':');
        return parts.Length <= 2 && Uri.CheckHostName(parts[0]) is UriHostNameType.Dns or UriHostNameType.IPv4
            && (parts.Length == 1 || (int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535));
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex SecretName();
}

public sealed record AllowlistDto(string[]? Hosts)
{
    public static AllowlistDto From(IEnumerable<string> hosts) => new([.. hosts.Order(StringComparer.Ordinal)]);
}

public sealed record SecretRequest(string? Value);
