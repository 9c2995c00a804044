using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;
using Platform.Tool.Net;

namespace Platform.Tool.Apis;

public static partial class SettingsApi
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
            return TypedResults.ValidationProblem(errors);
        }

        await secrets.PutAsync(context.User.TenantId(), name, request.Value!);
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
        var invalid = (request.Hosts ?? []).Where(h => !IsHostEntry(h)).Select(h => h ?? "null").ToList();
        if (request.Hosts is null || request.Hosts.Length > 1000 || invalid.Count > 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["hosts"] = [$"At most 1000 host names or host:port entries; invalid: {string.Join(", ", invalid.Take(20).Select(h => h.Length > 100 ? h[..100] + "…" : h))}"],
            });
        }

        await allowlist.ReplaceAsync(context.User.TenantId(), request.Hosts);
        return TypedResults.Ok(new AllowlistDto((await allowlist.HostsAsync(context.User.TenantId())).Order(StringComparer.Ordinal).ToArray()));
    }

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

public sealed record AllowlistDto(string[]? Hosts);

public sealed record SecretRequest(string? Value);
