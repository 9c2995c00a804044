using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Model.Agents;

/// <summary>
/// The orchestrator's runs API as the gateway uses it to answer for an agent, always with the caller's own key
/// (the service clients propagate it), so the run is the caller's: its tenant, its scopes, its bill.
/// </summary>
public sealed class AgentRuns(IHttpClientFactory clients)
{
    public const string ClientName = "orchestrator-runs";

    /// <summary>Starts a run; null with the orchestrator's status when it refused.</summary>
    public async Task<(JsonElement? Run, HttpStatusCode Status, string Body)> StartAsync(
        string agent, int? version, string goal, JsonNode? input, JsonObject metadata, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/runs")
        {
            Content = JsonContent.Create(new JsonObject { ["agent"] = agent, ["agentVersion"] = version, ["goal"] = goal, ["input"] = input, ["metadata"] = metadata }),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await Client().SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return (response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.Clone() : null, response.StatusCode, body);
    }

    public async Task<JsonElement> GetAsync(string runId, CancellationToken cancellationToken) =>
        await Client().GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}", cancellationToken);

    public async Task CancelAsync(string runId)
    {
        using var response = await Client().PostAsync($"/v1/runs/{runId}/cancel", null);
    }

    /// <summary>The names of the caller's agents and when their latest versions were written; none when its key may not read them.</summary>
    public async Task<IReadOnlyList<(string Name, DateTime WrittenAt)>> ListAgentsAsync(CancellationToken cancellationToken)
    {
        var agents = new List<(string, DateTime)>();
        string? after = null;
        do
        {
            using var response = await TryGetAsync($"/v1/agents?limit=200{(after is null ? "" : $"&after={Uri.EscapeDataString(after)}")}", cancellationToken);
            if (response is not { IsSuccessStatusCode: true })
            {
                return agents;
            }

            var page = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            agents.AddRange(page.GetProperty("items").EnumerateArray().Select(a => (a.GetProperty("name").GetString()!, a.GetProperty("createdAt").GetDateTime())));
            after = page.GetProperty("next").GetString();
        }
        while (after is not null);

        return agents;
    }

    /// <summary>The run's events as the orchestrator streams them (type and JSON data), deltas included, until its final event.</summary>
    public async IAsyncEnumerable<(string Type, JsonElement Data)> EventsAsync(string runId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{runId}/events");
        using var response = await Client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        string? type = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && type is not null)
            {
                using var data = JsonDocument.Parse(line["data: ".Length..]);
                yield return (type, data.RootElement.Clone());
                type = null;
            }
        }
    }

    /// <summary>The aliases are listed whether or not the orchestrator answers.</summary>
    private async Task<HttpResponseMessage?> TryGetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await Client().GetAsync(path, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private HttpClient Client() => clients.CreateClient(ClientName);
}
