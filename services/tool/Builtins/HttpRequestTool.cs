using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.ServiceDefaults.Net;
using Platform.Tool.Net;
using Platform.Tool.Registry;

namespace Platform.Tool.Builtins;

/// <summary>An HTTP request to the public internet, or to the tenant's allow-listed hosts, through the SSRF guard.</summary>
public sealed class HttpRequestTool(SafeHttp http) : IBuiltinTool
{
    public ToolDefinition Definition { get; } = Builtin.Define("http_request",
        "Sends an HTTP request and returns the status, content type and body (at most 1 MiB). Private and loopback addresses are refused unless allow-listed.",
        SideEffects.SideEffecting,
        $$$"""
        {"type":"object","properties":{
          "method":{"type":"string","enum":["GET","HEAD","POST","PUT","PATCH","DELETE"]},
          "url":{"type":"string","maxLength":{{{HttpUrl.MaxLength}}},"minLength":1},
          "headers":{"type":"object","additionalProperties":{"type":"string"}},
          "body":{"type":"string","maxLength":1000000}},
         "required":["method","url"],"additionalProperties":false}
        """,
        timeoutMs: 30_000);

    public async Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        if (!HttpUrl.TryParse(arguments.GetProperty("url").GetString(), out var url, out var problem))
        {
            throw new ToolFailedException($"The url cannot be called: {problem}", retryable: false);
        }

        var headers = arguments.TryGetProperty("headers", out var h) ? h.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!) : null;
        try
        {
            var response = await http.SendAsync(context.TenantId, new HttpMethod(arguments.GetProperty("method").GetString()!), url, headers,
                arguments.TryGetProperty("body", out var body) ? body.GetString() : null, null, TimeSpan.FromMilliseconds(Definition.TimeoutMs), cancellationToken);
            return new JsonObject { ["status"] = response.Status, ["contentType"] = response.ContentType, ["body"] = response.Body, ["url"] = response.FinalUrl.ToString() };
        }
        catch (BlockedRequestException e)
        {
            throw new ToolFailedException(e.Message);
        }
    }
}
