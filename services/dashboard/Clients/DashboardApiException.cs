using System.Net;
using System.Text.Json;
using Polly.Timeout;

namespace Platform.Dashboard.Clients;

/// <summary>A service refused a call; the message is the problem's detail (or title), fit to show the operator.</summary>
public sealed class DashboardApiException(string message, HttpStatusCode? status = null) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;

    /// <summary>Sends the request; a service that cannot be reached is a refusal to show, not a broken page.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage request, string service, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new DashboardApiException($"The {service} cannot be reached: {e.Message}");
        }
        catch (TimeoutRejectedException)
        {
            throw new DashboardApiException($"The {service} did not answer in time.");
        }
    }

    public static async Task ThrowUnlessSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var message = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                message = string.Join(" ", errors.EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(v => v.GetString())));
            }
            else if (root.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } text)
            {
                message = text;
            }
            else if (root.TryGetProperty("title", out var title) && title.GetString() is { Length: > 0 } titleText)
            {
                message = titleText;
            }
        }
        catch (JsonException)
        {
        }

        throw new DashboardApiException(message, response.StatusCode);
    }
}
