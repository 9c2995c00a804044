using System.Net.Http.Headers;
using System.Text.Json;
using Platform.Dashboard.Session;

namespace Platform.Dashboard.Clients;

/// <summary>The tool service's approvals API, called with the signed-in operator's key.</summary>
public sealed class ToolClient(HttpClient http, SignedInKey key)
{
    public async Task<IReadOnlyList<ToolApproval>> PendingApprovalsAsync(CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, "/v1/approvals?status=pending", null);
        using var response = await DashboardApiException.SendAsync(http, request, "tool service", cancellationToken);
        await DashboardApiException.ThrowUnlessSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<IReadOnlyList<ToolApproval>>(DashboardJson.Options, cancellationToken) ?? [];
    }

    public async Task DecideAsync(Guid id, bool approve, string? reason, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Post, $"/v1/approvals/{id}/{(approve ? "approve" : "deny")}", new { reason });
        using var response = await DashboardApiException.SendAsync(http, request, "tool service", cancellationToken);
        await DashboardApiException.ThrowUnlessSuccessAsync(response, cancellationToken);
    }

    private async Task<HttpRequestMessage> RequestAsync(HttpMethod method, string path, object? body)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: DashboardJson.Options) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await key.KeyAsync());
        return request;
    }
}
