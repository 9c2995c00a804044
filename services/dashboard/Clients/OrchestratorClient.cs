using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Platform.Dashboard.Session;

namespace Platform.Dashboard.Clients;

/// <summary>The orchestrator's runs and agents API, called with the signed-in operator's key.</summary>
public sealed class OrchestratorClient(HttpClient http, IHttpClientFactory factory, SignedInKey key)
{
    public const string EventsClientName = "orchestrator-events";

    public async Task<IReadOnlyList<RunSummary>> ListRunsAsync(string? agent, string? state, int limit, CancellationToken cancellationToken)
    {
        var query = $"/v1/runs?limit={limit}";
        query += string.IsNullOrEmpty(agent) ? "" : $"&agent={Uri.EscapeDataString(agent)}";
        query += string.IsNullOrEmpty(state) ? "" : $"&state={Uri.EscapeDataString(state)}";
        return await SendAsync<IReadOnlyList<RunSummary>>(HttpMethod.Get, query, null, cancellationToken) ?? [];
    }

    public Task<Run?> GetRunAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<Run>(HttpMethod.Get, $"/v1/runs/{id}", null, cancellationToken, notFoundIsNull: true);

    public async Task<IReadOnlyList<Agent>> ListAgentsAsync(CancellationToken cancellationToken) =>
        (await SendAsync<AgentPage>(HttpMethod.Get, "/v1/agents?limit=200", null, cancellationToken))?.Items ?? [];

    /// <summary>Starts a run; a repeated <paramref name="idempotencyKey"/> (a double submit) answers the run it first made.</summary>
    public async Task<Run> StartRunAsync(string agent, string goal, string idempotencyKey, CancellationToken cancellationToken) =>
        await SendAsync<Run>(HttpMethod.Post, "/v1/runs", new { agent, goal }, cancellationToken, idempotencyKey: idempotencyKey)
        ?? throw new DashboardApiException("The orchestrator answered no run.");

    public Task CancelAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/runs/{id}/cancel", null, cancellationToken);

    public Task RetryAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/runs/{id}/retry", null, cancellationToken);

    public Task DecideStepAsync(Guid id, string stepId, bool approve, string? reason, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/runs/{id}/steps/{Uri.EscapeDataString(stepId)}/{(approve ? "approve" : "deny")}",
            new { reason }, cancellationToken);

    /// <summary>The run's server-sent events after <paramref name="after"/>, until the run ends or the caller stops.</summary>
    public async IAsyncEnumerable<RunEvent> EventsAsync(Guid id, long after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var client = factory.CreateClient(EventsClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events?after={after}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await key.KeyAsync());
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await DashboardApiException.ThrowUnlessSuccessAsync(response, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        string? type = null;
        string? data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (type is not null && data is not null)
                {
                    yield return RunEvent.Parse(type, data);
                }

                (type, data) = (null, null);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
        }
    }

    private async Task<T?> SendAsync<T>(
        HttpMethod method, string path, object? body, CancellationToken cancellationToken, bool notFoundIsNull = false, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await key.KeyAsync());
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await DashboardApiException.SendAsync(http, request, "orchestrator", cancellationToken);
        if (notFoundIsNull && response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return default;
        }

        await DashboardApiException.ThrowUnlessSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(DashboardJson.Options, cancellationToken);
    }
}
