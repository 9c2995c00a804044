using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Net;
using Platform.Tool.Builtins;
using Platform.Tool.Net;
using Platform.Tool.Registry;

namespace Platform.Tool.Invocations;

/// <summary>Calls a registered HTTP tool's endpoint through the SSRF guard, mapping arguments onto the request.</summary>
public sealed partial class HttpToolExecutor(SafeHttp http, SecretStore secrets)
{
    public async Task<JsonNode?> ExecuteAsync(string tenantId, ToolDefinition tool, JsonElement arguments, CancellationToken cancellationToken)
    {
        var binding = tool.Http ?? throw new ToolFailedException($"'{tool.Name}' has no HTTP binding.");
        var used = new HashSet<string>(StringComparer.Ordinal);
        var url = Placeholder().Replace(binding.Url, match =>
        {
            used.Add(match.Groups[1].Value);
            return arguments.TryGetProperty(match.Groups[1].Value, out var value)
                ? Uri.EscapeDataString(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText())
                : throw new ToolFailedException($"The URL needs the argument '{match.Groups[1].Value}'.", retryable: false);
        });
        var rest = arguments.EnumerateObject().Where(p => !used.Contains(p.Name)).ToList();
        var method = new HttpMethod(binding.Method.ToUpperInvariant());
        var bodyless = method == HttpMethod.Get || method == HttpMethod.Delete || method == HttpMethod.Head;
        var inQuery = rest.Where(p => bodyless || (binding.Query ?? []).Contains(p.Name)).ToList();
        var query = string.Join("&", inQuery.Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText())}"));
        url += query.Length == 0 ? "" : (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query;
        var body = bodyless ? null : new JsonObject(rest.Except(inQuery).Select(p => KeyValuePair.Create(p.Name, JsonNode.Parse(p.Value.GetRawText())))).ToJsonString();
        // The rule's scheme and host, not its length: a URL assembled per call is as long as the arguments the tool's schema allows.
        if (!Uri.TryCreate(url, UriKind.Absolute, out var target) || !HttpUrl.IsHttp(target))
        {
            throw new ToolFailedException($"The URL built from the arguments, '{(url.Length > 200 ? url[..200] + "…" : url)}', is not an absolute http(s) URL.",
                retryable: false);
        }

        try
        {
            var headers = await secrets.ResolveAsync(tenantId, binding.Headers);
            var response = await http.SendAsync(tenantId, method, target, headers, body, "application/json", TimeSpan.FromMilliseconds(tool.TimeoutMs), cancellationToken);
            if (response.Status >= 400)
            {
                throw new ToolFailedException($"The endpoint answered {response.Status}: {(response.Body.Length > 500 ? response.Body[..500] : response.Body)}");
            }

            return new JsonObject { ["status"] = response.Status, ["body"] = ParseOrText(response) };
        }
        catch (BlockedRequestException e)
        {
            throw new ToolFailedException(e.Message);
        }
    }

    private static JsonNode? ParseOrText(SafeResponse response)
    {
        if (response.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                return JsonNode.Parse(response.Body);
            }
            catch (JsonException)
            {
                return response.Body;
            }
        }

        return response.Body;
    }

    [GeneratedRegex(@"\{([A-Za-z0-9_]+)\}")]
    private static partial Regex Placeholder();
}
