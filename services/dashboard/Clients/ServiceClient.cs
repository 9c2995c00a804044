using System.Net;
using Platform.Dashboard.Session;

namespace Platform.Dashboard.Clients;

/// <summary>How one call treats its answer and whom it acts as.</summary>
/// <param name="NotFoundIsNull">A 404 answers null (the thing does not exist for this tenant).</param>
/// <param name="ForbiddenIsNull">A 403 answers null (the key lacks the scope: the view says so instead of failing).</param>
/// <param name="AsKeyTenant">Acts as the key's own tenant even when a platform admin switched to another.</param>
/// <param name="AsTenant">Acts as this tenant (a platform admin's call about one tenant among many).</param>
public sealed record CallOptions(
    bool NotFoundIsNull = false, bool ForbiddenIsNull = false, bool AsKeyTenant = false, string? IdempotencyKey = null, string? IfMatch = null,
    string? AsTenant = null);

/// <summary>A service's public API, called with the signed-in operator's key.</summary>
public abstract class ServiceClient(HttpClient http, SignedInKey key, string service)
{
    protected SignedInKey Key => key;

    /// <summary>A plain-text answer (such as Prometheus metrics); null when the key may not read it.</summary>
    protected async Task<string?> GetTextAsync(string path, CancellationToken cancellationToken, CallOptions options)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        await key.AuthorizeAsync(request, options.AsKeyTenant);
        using var response = await DashboardApiException.SendAsync(http, request, service, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            return null;
        }

        await DashboardApiException.ThrowUnlessSuccessAsync(response, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    protected async Task<T?> SendAsync<T>(HttpMethod method, string path, CancellationToken cancellationToken, object? body = null, CallOptions? options = null)
    {
        options ??= new CallOptions();
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: DashboardJson.Options) };
        await key.AuthorizeAsync(request, options.AsKeyTenant || options.AsTenant is not null);
        if (options.AsTenant is not null)
        {
            request.Headers.Add(Platform.ServiceDefaults.Authentication.ApiKeyAuthenticationHandler.TenantHeader, options.AsTenant);
        }

        if (options.IdempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", options.IdempotencyKey);
        }

        if (options.IfMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", options.IfMatch);
        }

        using var response = await DashboardApiException.SendAsync(http, request, service, cancellationToken);
        if ((options.NotFoundIsNull && response.StatusCode == HttpStatusCode.NotFound)
            || (options.ForbiddenIsNull && response.StatusCode == HttpStatusCode.Forbidden))
        {
            return default;
        }

        await DashboardApiException.ThrowUnlessSuccessAsync(response, cancellationToken);
        return response.StatusCode == HttpStatusCode.NoContent
            ? default
            : await response.Content.ReadFromJsonAsync<T>(DashboardJson.Options, cancellationToken);
    }
}
