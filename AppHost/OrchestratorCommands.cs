using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Platform.AppHost;

/// <summary>Dashboard commands on the orchestrator, which owns tenants and API keys.</summary>
internal static class OrchestratorCommands
{
    public const string IssueAdminKey = "issue-admin-key";

    /// <summary>Issues a new admin key of the system tenant through the orchestrator's API and shows it once.</summary>
    public static IResourceBuilder<ProjectResource> WithIssueAdminKeyCommand(this IResourceBuilder<ProjectResource> orchestrator, IResourceBuilder<ParameterResource> adminApiKey)
    {
        var endpoint = orchestrator.GetEndpoint("http");
        return orchestrator.WithCommand(IssueAdminKey, "Issue admin API key", async context =>
        {
            using var client = new HttpClient { BaseAddress = new Uri(endpoint.Url), Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await adminApiKey.Resource.GetValueAsync(context.CancellationToken));
            var name = $"issued from the Aspire dashboard {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z";
            try
            {
                using var response = await client.PostAsJsonAsync("/v1/tenants/system/keys", new { name, scopes = new[] { "admin" } }, context.CancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return CommandResults.Failure($"The orchestrator answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(context.CancellationToken)}");
                }

                var issued = await response.Content.ReadFromJsonAsync<IssuedKey>(context.CancellationToken);
                return CommandResults.Success($"Issued an admin API key of the system tenant ({name}). Copy it now: it is not shown again.",
                    issued!.Key, CommandResultFormat.Text, displayImmediately: true);
            }
            catch (HttpRequestException e)
            {
                return CommandResults.Failure($"The orchestrator could not be reached: {e.Message}");
            }
        }, new CommandOptions
        {
            Description = "Issue a new admin API key of the system tenant and show it once",
            IconName = "Key",
            UpdateState = context => context.ResourceSnapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
        });
    }

    private sealed record IssuedKey(string Key);
}
