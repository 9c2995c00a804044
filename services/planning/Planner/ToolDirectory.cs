using System.Net;
using System.Text.Json;

namespace Platform.Planning.Planner;

/// <summary>
/// The tools the caller's tenant can see, listed by the tool service with the caller's own key (so exactly that
/// tenant's tools, and only when the key holds the <c>tools</c> scope).
/// </summary>
public sealed class ToolDirectory(IHttpClientFactory clients)
{
    public const string ClientName = "tool";

    public async Task<IReadOnlyDictionary<string, ToolInfo>> ListAsync(CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ClientName);
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync("/v1/tools", cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Polly.ExecutionRejectedException && !cancellationToken.IsCancellationRequested)
        {
            throw Unavailable(e.Message);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
            {
                throw NeedsToolsScope();
            }

            if (!response.IsSuccessStatusCode)
            {
                throw Unavailable($"it answered {(int)response.StatusCode}");
            }

            ToolInfo[] tools;
            try
            {
                tools = await response.Content.ReadFromJsonAsync<ToolInfo[]>(JsonSerializerOptions.Web, cancellationToken) ?? [];
            }
            catch (JsonException e)
            {
                throw Unavailable($"its answer is not a tool list ({e.Message})");
            }

            return tools.Where(t => t.Name is not null).DistinctBy(t => t.Name).ToDictionary(t => t.Name, StringComparer.Ordinal);
        }
    }

    public static PlanningProblem NeedsToolsScope() => new(StatusCodes.Status403Forbidden, "Forbidden",
        "Planning lists the tenant's tools from the tool service with this API key, which needs the `tools` scope: add the scope to the key, or plan without tools (`tools: []`).")
    {
        Field = "tools",
    };

    private static PlanningProblem Unavailable(string reason) =>
        new(StatusCodes.Status502BadGateway, "Tool service unavailable", $"The tool service could not list the tenant's tools: {reason}");
}

/// <summary>A tool as the tool service lists it; what planning needs of it.</summary>
public sealed record ToolInfo(string Name, string? Description, string? Kind, string? SideEffect, JsonElement Parameters, int TimeoutMs);
