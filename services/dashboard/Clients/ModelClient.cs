using System.Net.Http.Headers;
using Platform.Dashboard.Session;

namespace Platform.Dashboard.Clients;

/// <summary>The model gateway's catalog, called with the signed-in operator's key.</summary>
public sealed class ModelClient(HttpClient http, SignedInKey key)
{
    /// <summary>The model aliases the key can use; null when the key may not list them.</summary>
    public async Task<IReadOnlyList<string>?> ModelIdsAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await key.KeyAsync());
        using var response = await DashboardApiException.SendAsync(http, request, "model gateway", cancellationToken);
        if (response.StatusCode is System.Net.HttpStatusCode.Forbidden)
        {
            return null;
        }

        await DashboardApiException.ThrowUnlessSuccessAsync(response, cancellationToken);
        var list = await response.Content.ReadFromJsonAsync<ModelList>(DashboardJson.Options, cancellationToken);
        return list?.Data.Select(m => m.Id).ToList() ?? [];
    }

    private sealed record ModelList(IReadOnlyList<ModelEntry> Data);

    private sealed record ModelEntry(string Id);
}
