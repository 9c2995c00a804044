using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;
using Platform.Tool.Net;

namespace Platform.Tool.Apis;

public static class SettingsApi
{
    public static IEndpointRouteBuilder MapSettingsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tool-settings").WithTags("Tool settings").RequireScope(Scopes.Admin);

        api.MapGet("/http-allowlist", GetAllowlist);
        api.MapPut("/http-allowlist", PutAllowlist);

        return app;
    }

    public static async Task<Ok<AllowlistDto>> GetAllowlist(HttpContext context, HttpAllowlist allowlist) =>
        TypedResults.Ok(new AllowlistDto((await allowlist.HostsAsync(context.User.TenantId())).Order(StringComparer.Ordinal).ToArray()));

    /// <summary>
    /// The hosts (optionally <c>host:port</c>) this tenant's HTTP calls may reach. Empty: any public host. Listed hosts
    /// may also be private or loopback, which is otherwise refused.
    /// </summary>
    public static async Task<Results<Ok<AllowlistDto>, ValidationProblem>> PutAllowlist(AllowlistDto request, HttpContext context, HttpAllowlist allowlist)
    {
        var invalid = (request.Hosts ?? []).Where(h => Uri.CheckHostName(h.Split(':')[0]) == UriHostNameType.Unknown
            || (h.Contains(':', StringComparison.Ordinal) && !int.TryParse(h.Split(':')[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))).ToList();
        if (request.Hosts is null || request.Hosts.Length > 1000 || invalid.Count > 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["hosts"] = [$"At most 1000 host names or host:port entries; invalid: {string.Join(", ", invalid)}"] });
        }

        await allowlist.ReplaceAsync(context.User.TenantId(), request.Hosts);
        return TypedResults.Ok(new AllowlistDto((await allowlist.HostsAsync(context.User.TenantId())).Order(StringComparer.Ordinal).ToArray()));
    }
}

public sealed record AllowlistDto(string[]? Hosts);
