using System.Globalization;
using System.Text.Json.Nodes;

namespace Platform.Tests.Sweep;

/// <summary>
/// Valid requests for today's operations, so that each hostile variant differs from an accepted request in one place
/// only and reaches past validation. An operation not named here still gets swept, from a body its schema describes.
/// </summary>
public static class SweepSeeds
{
    public const string Tool = "http.sweep";
    public const string Alias = "sweep-alias";

    /// <summary>Operations only a platform admin gets past; they touch the sweep's own tenant only.</summary>
    public static bool NeedsPlatformAdmin(SweepOperation operation) =>
        operation.Name is "POST /v1/tenants" or "PUT /v1/budgets/tenants/{tenantId}" or "DELETE /v1/budgets/tenants/{tenantId}";

    public static string PathValue(SweepOperation operation, SweepParameter parameter, SweepIdentity identity) => (operation.Path, parameter.Name) switch
    {
        (_, "tenantId") => identity.TenantId,
        (_, "keyId") when operation.Path.StartsWith("/v1/budgets/", StringComparison.Ordinal) => identity.AdminKeyId,
        ("/v1/tools/{name}" or "/v1/tools/{name}/policy" or "/v1/tools/{name}/invocations", "name") => Tool,
        ("/v1/tool-settings/secrets/{name}", "name") => "sweep_secret",
        ("/v1/catalog/{alias}", "alias") => Alias,
        _ when (string?)parameter.Schema?["format"] == "uuid" => identity.Unknown.ToString(),
        _ => "sweep",
    };

    /// <summary>The body of a valid request; <c>{unique}</c> becomes a new value in every request.</summary>
    public static JsonNode? Body(SweepOperation operation, SweepIdentity identity) => operation.Name switch
    {
        "POST /v1/tenants" => new JsonObject { ["id"] = identity.NewTenantId, ["name"] = "Sweep tenant" },
        "POST /v1/tenants/{tenantId}/keys" => Parse($$"""
            {"name": "sweep", "scopes": ["runs"], "expiresAt": "{{DateTimeOffset.UtcNow.AddDays(1).ToString("O", CultureInfo.InvariantCulture)}}"}
            """),
        "POST /v1/plans" => Parse("""
            {"goal": "Sweep the platform", "steps": [
              {"id": "a", "title": "Look", "kind": "model", "dependsOn": []},
              {"id": "b", "title": "Act", "kind": "tool", "dependsOn": ["a"]}]}
            """),
        "PUT /v1/catalog/{alias}" => Parse("""
            {"strategy": "ordered", "deployments": [{"name": "sweep-deployment", "provider": "simulator", "model": "sweep-model",
              "baseUrl": "https://sweep.invalid/v1", "apiKey": "sk-sweep", "inputPricePerMillion": 1, "outputPricePerMillion": 2,
              "contextWindow": 8000, "rpm": 100000, "tpm": 100000000, "weight": 1, "attemptTimeout": "00:00:30"}]}
            """),
        "PUT /v1/budgets/tenants/{tenantId}" => Parse("""{"dailyUsd": 1000, "monthlyUsd": 10000, "rpm": null, "tpm": null}"""),
        "PUT /v1/budgets/tenants/{tenantId}/keys/{keyId}" => Parse("""{"dailyUsd": 1000, "monthlyUsd": 10000, "rpm": 100000, "tpm": 100000000}"""),
        "POST /v1/chat/completions" => Parse($$"""
            {"model": "{{Alias}}", "messages": [
              {"role": "system", "content": "Answer briefly."},
              {"role": "user", "content": [{"type": "text", "text": "Say hi"}]}],
             "max_tokens": 16, "temperature": 0.5, "user": "sweep",
             "response_format": {"type": "json_schema", "json_schema": {"name": "greeting",
               "schema": {"type": "object", "properties": {"text": {"type": "string", "minLength": 1} }, "required": ["text"] } } } }
            """),
        "POST /v1/embeddings" => Parse($$"""
            {"model": "{{Alias}}", "input": ["hello", "world"], "encoding_format": "float", "dimensions": 8, "user": "sweep"}
            """),
        // Its URL is loopback, which the tool service's guard refuses at once: an invocation ends fast, reaching nothing.
        "PUT /v1/tools/{name}" => Parse("""
            {"description": "Looks an item up", "sideEffect": "read_only",
             "parameters": {"type": "object", "properties": {"q": {"type": "string", "maxLength": 100}}, "required": ["q"]},
             "resultSchema": {"type": "object"},
             "http": {"method": "GET", "url": "http://127.0.0.1:9/items/{q}", "headers": {"X-Sweep": "1"}, "query": ["q"]},
             "timeoutMs": 2000}
            """),
        "PUT /v1/tools/{name}/policy" => Parse("""
            {"approval": {"always": false, "when": [{"pointer": "/q", "pattern": "^never$"}], "expiresAfter": "00:05:00"},
             "rateLimitPerMinute": 100000}
            """),
        // The argument is what makes a backtracking approval pattern such as ^(a+)+$ take exponential time.
        "POST /v1/tools/{name}/invocations" => Parse("""
            {"arguments": {"q": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}, "idempotencyKey": "{unique}", "runId": "sweep-run", "stepId": "a"}
            """),
        "POST /v1/tools/import/openapi" => Parse("""
            {"document": {"openapi": "3.0.3", "info": {"title": "Sweep", "version": "1"}, "paths": {"/items/{id}": {"get": {
               "operationId": "getItem", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]}}}},
             "prefix": "sweep_", "baseUrl": "https://sweep.invalid"}
            """),
        "POST /v1/agents" => Agent(new JsonObject { ["name"] = "sweep" }),
        "PUT /v1/agents/{name}" => Agent(new JsonObject()),
        "PUT /v1/tool-settings/http-allowlist" => Parse("""{"hosts": ["sweep.invalid", "sweep.invalid:8443"]}"""),
        "PUT /v1/tool-settings/private-grants" => Parse("""{"hosts": ["sweep.invalid", "10.0.0.9:8443"]}"""),
        "PUT /v1/tool-settings/secrets/{name}" => Parse("""{"value": "s3cret"}"""),
        "PUT /v1/mcp-servers/{name}" => Parse("""{"transport": "http", "command": null, "args": ["--sweep"], "url": "https://sweep.invalid/mcp"}"""),
        _ => null,
    };

    /// <summary>An agent with every field set, so each one meets hostile values; PUT takes its name from the path.</summary>
    private static JsonObject Agent(JsonObject agent)
    {
        foreach (var (name, value) in Parse("""
            {"instructions": "Sweep the platform.", "model": "simulator", "fallbackModel": "sweep-alias", "tools": ["builtin.calculator", "http.sweep"],
             "mode": "react", "maxSteps": 10, "maxToolCalls": 20, "budgetUsd": 5.5, "timeouts": {"runSeconds": 600, "stepSeconds": 60},
             "retries": {"maxAttempts": 2, "backoffSeconds": 1}, "approvals": {"require": ["http.sweep"], "skip": ["builtin.calculator"]},
             "outputSchema": {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 100}}, "required": ["answer"]},
             "webhookUrl": "https://sweep.invalid/hooks", "metadata": {"team": "sweep", "priority": 1}}
            """).AsObject())
        {
            agent[name] = value?.DeepClone();
        }

        return agent;
    }

    private static JsonNode Parse(string json) => JsonNode.Parse(json)!;
}
