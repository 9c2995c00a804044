using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Dashboard.Session;
using Platform.ServiceDefaults.Http;

namespace Platform.Dashboard.Clients;

/// <summary>The orchestrator's runs, agents, tenants and keys APIs, called with the signed-in operator's key.</summary>
public sealed class OrchestratorClient(HttpClient http, IHttpClientFactory factory, SignedInKey key) : ServiceClient(http, key, "orchestrator")
{
    public const string EventsClientName = "orchestrator-events";

    /// <summary>The latest <paramref name="limit"/> runs, newest first, read a page of at most <see cref="Paging.MaxLimit"/> at a time.</summary>
    public async Task<IReadOnlyList<RunSummary>> ListRunsAsync(string? agent, string? state, int limit, CancellationToken cancellationToken)
    {
        var filter = (string.IsNullOrEmpty(agent) ? "" : $"&agent={Uri.EscapeDataString(agent)}") + (string.IsNullOrEmpty(state) ? "" : $"&state={Uri.EscapeDataString(state)}");
        var runs = new List<RunSummary>();
        while (runs.Count < limit)
        {
            var take = Math.Min(limit - runs.Count, Paging.MaxLimit);
            var before = runs.Count == 0 ? "" : $"&before={Uri.EscapeDataString(runs[^1].CreatedAt.ToString("O", CultureInfo.InvariantCulture))}";
            var page = await SendAsync<IReadOnlyList<RunSummary>>(HttpMethod.Get, $"/v1/runs?limit={take}{filter}{before}", cancellationToken) ?? [];
            runs.AddRange(page);
            if (page.Count < take)
            {
                break;
            }
        }

        return runs;
    }

    public Task<Run?> GetRunAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<Run>(HttpMethod.Get, $"/v1/runs/{id}", cancellationToken, options: new(NotFoundIsNull: true));

    public async Task<IReadOnlyList<Agent>> ListAgentsAsync(CancellationToken cancellationToken) =>
        (await SendAsync<AgentPage>(HttpMethod.Get, "/v1/agents?limit=200", cancellationToken))?.Items ?? [];

    public async Task<IReadOnlyList<Agent>> ListAgentVersionsAsync(string name, CancellationToken cancellationToken) =>
        (await SendAsync<AgentVersionPage>(HttpMethod.Get, $"/v1/agents/{Uri.EscapeDataString(name)}/versions?limit=200", cancellationToken,
            options: new(NotFoundIsNull: true)))?.Items ?? [];

    /// <summary>The agent's latest version as the API gives it, so an edit keeps every field the form does not show.</summary>
    public Task<JsonObject?> GetAgentDefinitionAsync(string name, CancellationToken cancellationToken) =>
        SendAsync<JsonObject>(HttpMethod.Get, $"/v1/agents/{Uri.EscapeDataString(name)}", cancellationToken, options: new(NotFoundIsNull: true));

    public async Task<Agent> CreateAgentAsync(JsonObject definition, CancellationToken cancellationToken) =>
        await SendAsync<Agent>(HttpMethod.Post, "/v1/agents", cancellationToken, definition) ?? throw new DashboardApiException("The orchestrator answered no agent.");

    /// <summary>Writes the agent's next version, only while <paramref name="basedOn"/> is its latest (another edit in between is refused).</summary>
    public async Task<Agent> UpdateAgentAsync(string name, JsonObject definition, int basedOn, CancellationToken cancellationToken) =>
        await SendAsync<Agent>(HttpMethod.Put, $"/v1/agents/{Uri.EscapeDataString(name)}", cancellationToken, definition, new(IfMatch: $"\"{basedOn}\""))
        ?? throw new DashboardApiException("The orchestrator answered no agent.");

    /// <summary>Every tenant; null unless the key is a platform admin's.</summary>
    public Task<IReadOnlyList<Tenant>?> ListTenantsAsync(CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<Tenant>>(HttpMethod.Get, "/v1/tenants", cancellationToken, options: new(ForbiddenIsNull: true, AsKeyTenant: true));

    /// <summary>The tenant's keys; null unless the key may manage the tenant (its admin, or a platform admin).</summary>
    public Task<IReadOnlyList<ApiKeyInfo>?> ListKeysAsync(string tenantId, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<ApiKeyInfo>>(HttpMethod.Get, $"/v1/tenants/{Uri.EscapeDataString(tenantId)}/keys", cancellationToken,
            options: new(ForbiddenIsNull: true, NotFoundIsNull: true, AsKeyTenant: true));

    public async Task<IssuedApiKey> IssueKeyAsync(string tenantId, string name, IReadOnlyList<string> scopes, CancellationToken cancellationToken) =>
        await SendAsync<IssuedApiKey>(HttpMethod.Post, $"/v1/tenants/{Uri.EscapeDataString(tenantId)}/keys", cancellationToken, new { name, scopes },
            new(AsKeyTenant: true)) ?? throw new DashboardApiException("The orchestrator answered no key.");

    public Task RevokeKeyAsync(string tenantId, Guid keyId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Delete, $"/v1/tenants/{Uri.EscapeDataString(tenantId)}/keys/{keyId}", cancellationToken, options: new(AsKeyTenant: true));

    /// <summary>
    /// The platform's run queue (every tenant's: due runs no replica holds, and how long the oldest has waited), read from
    /// the orchestrator's Prometheus metrics; null unless the key may read them (a system tenant key with metrics or admin).
    /// </summary>
    public async Task<RunQueue?> QueueAsync(CancellationToken cancellationToken)
    {
        if (await GetTextAsync("/metrics", cancellationToken, new(AsKeyTenant: true)) is not { } metrics)
        {
            return null;
        }

        // A sample is "name{labels} value [timestamp]"; the orchestrator's replicas all report the same database-wide numbers.
        double? Gauge(string name) => metrics.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is ' ' or '{')
            .Select(line => line[(Math.Max(name.Length, line.LastIndexOf('}') + 1))..].Trim().Split(' ')[0])
            .Select(value => double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : (double?)null)
            .Max();
        return Gauge("platform_runs_queue_depth") is { } depth ? new RunQueue((long)depth, Gauge("platform_runs_queue_oldest_age_seconds") ?? 0) : null;
    }

    /// <summary>Starts a run; a repeated <paramref name="idempotencyKey"/> (a double submit) answers the run it first made.</summary>
    public async Task<Run> StartRunAsync(string agent, string goal, string idempotencyKey, CancellationToken cancellationToken) =>
        await SendAsync<Run>(HttpMethod.Post, "/v1/runs", cancellationToken, new { agent, goal }, new(IdempotencyKey: idempotencyKey))
        ?? throw new DashboardApiException("The orchestrator answered no run.");

    public Task CancelAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/runs/{id}/cancel", cancellationToken);

    public Task RetryAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/runs/{id}/retry", cancellationToken);

    public Task DecideStepAsync(Guid id, string stepId, bool approve, string? reason, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"/v1/runs/{id}/steps/{Uri.EscapeDataString(stepId)}/{(approve ? "approve" : "deny")}",
            cancellationToken, new { reason });

    /// <summary>The run's server-sent events after <paramref name="after"/>, until the run ends or the caller stops.</summary>
    public async IAsyncEnumerable<RunEvent> EventsAsync(Guid id, long after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var client = factory.CreateClient(EventsClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/events?after={after}");
        await Key.AuthorizeAsync(request);
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
}
