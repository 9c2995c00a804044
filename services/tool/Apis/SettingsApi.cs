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
        api.MapGet("/secrets", ListSecrets);
        api.MapPut("/secrets/{name}", PutSecret);
        api.MapDelete("/secrets/{name}", DeleteSecret);

        return app;
    }

    public static async Task<Ok<AllowlistDto>> GetAllowlist(HttpContext context, HttpAllowlist allowlist) =>
        TypedResults.Ok(new AllowlistDto((await allowlist.HostsAsync(context.User.TenantId())).Order(StringComparer.Ordinal).ToArray()));

    /// <summary>Secret names only: values are written and used, never shown.</summary>
    public static async Task<Ok<IReadOnlyList<string>>> ListSecrets(HttpContext context, SecretStore secrets) =>
        TypedResults.Ok(await secrets.NamesAsync(context.User.TenantId()));

    public static async Task<Results<NoContent, ValidationProblem>> PutSecret(string name, SecretRequest request, HttpContext context, SecretStore secrets)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_-]{1,64}$") || string.IsNullOrEmpty(request.Value) || request.Value.Length > 10_000)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["value"] = ["A name of 1 to 64 letters, digits, '_' or '-', and a value of 1 to 10000 characters."] });
        }

        await secrets.PutAsync(context.User.TenantId(), name, request.Value);
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, NotFound>> DeleteSecret(string name, HttpContext context, SecretStore secrets) =>
        await secrets.DeleteAsync(context.User.TenantId(), name) ? TypedResults.NoContent() : TypedResults.NotFound();

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

public sealed record SecretRequest(string? Value);
