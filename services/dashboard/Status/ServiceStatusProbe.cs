using System.Diagnostics;
using System.Text.Json;
using Platform.ServiceDefaults.Http;

namespace Platform.Dashboard.Status;

/// <summary>Asks every service the dashboard references (its <c>services:*</c> configuration) for its health.</summary>
public sealed class ServiceStatusProbe(HttpClient http, IConfiguration configuration)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    public IReadOnlyList<string> ServiceNames => configuration.GetSection("services").GetChildren().Select(s => s.Key).Order().ToList();

    public async Task<IReadOnlyList<ServiceStatusDto>> ProbeAllAsync(CancellationToken cancellationToken) =>
        await Task.WhenAll(ServiceNames.Select(name => ProbeAsync(name, cancellationToken)));

    private async Task<ServiceStatusDto> ProbeAsync(string name, CancellationToken cancellationToken)
    {
        var url = configuration[$"services:{name}:http:0"] ?? configuration[$"services:{name}:https:0"];
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{name}/health");
            request.Options.Set(ResilienceRequestOptions.NoRetries, true);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ProbeTimeout);
            using var response = await http.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            var checks = new Dictionary<string, string>();
            if (response.Content.Headers.ContentType?.MediaType == "application/json")
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.TryGetProperty("checks", out var entries))
                {
                    foreach (var entry in entries.EnumerateObject())
                    {
                        checks[entry.Name] = entry.Value.GetProperty("status").GetString() ?? "Unknown";
                    }
                }
            }

            return new ServiceStatusDto(name, url, response.IsSuccessStatusCode ? "Healthy" : "Unhealthy", checks, stopwatch.ElapsedMilliseconds, null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
        {
            return new ServiceStatusDto(name, url, "Unreachable", new Dictionary<string, string>(), stopwatch.ElapsedMilliseconds, e.Message);
        }
    }
}

public sealed record ServiceStatusDto(string Name, string? Url, string Status, IReadOnlyDictionary<string, string> Checks, long LatencyMs, string? Error);
