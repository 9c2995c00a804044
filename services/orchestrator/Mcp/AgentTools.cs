using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Orchestrator.Mcp;

/// <summary>
/// The tenant's agents as MCP tools: listing shows each agent's latest version; calling one starts a durable run of
/// it (the same run the REST API starts: billed, visible, cancellable), reports the run's events as progress, and
/// answers with the run's output. A cancelled call cancels its run; a call cut off because this replica is stopping
/// leaves the run to finish on another, under the run id the first progress notification named.
/// </summary>
public static class AgentTools
{
    public const string RunIdMeta = "platform/runId";
    private const int PageSize = 100;
    private const int MaxGoalLength = 32 * 1024;
    private const int MaxInputBytes = 64 * 1024;

    private static readonly JsonElement InputSchema = JsonElement.Parse($$$"""
        {
          "type": "object",
          "properties": {
            "goal": { "type": "string", "minLength": 1, "maxLength": {{{MaxGoalLength}}}, "description": "What the run is to achieve." },
            "input": { "description": "Optional JSON the run's steps read as {{input}} (at most {{{MaxInputBytes / 1024}}} KB)." }
          },
          "required": ["goal"],
          "additionalProperties": false
        }
        """);

    public static async ValueTask<ListToolsResult> ListAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        var agents = request.Services!.GetRequiredService<AgentStore>();
        var page = await agents.ListAsync(request.User!.TenantId(), request.Params?.Cursor, PageSize + 1);
        return new ListToolsResult
        {
            Tools = [.. page.Take(PageSize).Select(Describe)],
            NextCursor = page.Count > PageSize ? page[PageSize - 1].Name : null,
        };
    }

    public static async ValueTask<CallToolResult> CallAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var services = request.Services!;
        var user = request.User!;
        var tenantId = user.TenantId();
        var name = request.Params!.Name;
        if (!AgentValidation.IsValidName(name) || await services.GetRequiredService<AgentStore>().FindAsync(tenantId, name, null, cancellationToken) is not { } agent)
        {
            throw new McpProtocolException($"Unknown tool: '{name}'. Each tool is an agent of this tenant; tools/list names them.", McpErrorCode.InvalidParams);
        }

        var arguments = request.Params.Arguments ?? new Dictionary<string, JsonElement>();
        if (ArgumentProblem(arguments) is { } problem)
        {
            return Error(problem);
        }

        var operations = services.GetRequiredService<RunOperations>();
        var client = request.Server.ClientInfo is { } info ? $"{info.Name} {info.Version}" : "unknown";
        var (run, _) = await operations.StartAsync(agent, new RunRequest(
            tenantId, user.KeyId(), arguments["goal"].GetString()!,
            arguments.TryGetValue("input", out var input) ? JsonNode.Parse(input.GetRawText()) : null,
            new JsonObject { ["source"] = "mcp", ["client"] = client }, null, $"mcp:{Guid.CreateVersion7()}"));

        var progress = new RunProgressNotifier(request.Server, request.Params.ProgressToken, run.Id);
        await progress.AcceptedAsync(cancellationToken);
        try
        {
            await foreach (var batch in services.GetRequiredService<RunFeed>().ReadAsync(run.Id, 0, cancellationToken))
            {
                await progress.ReportAsync(batch, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested
            && !services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
        {
            await operations.CancelAsync(tenantId, run.Id);
            throw;
        }

        var ended = (await services.GetRequiredService<RunStore>().FindAsync(tenantId, run.Id))!;
        return Result(ended, agent);
    }

    private static Tool Describe(AgentVersion agent)
    {
        // What a key that may only start runs may learn of an agent: never its instructions.
        var description = agent.Definition.Metadata.ValueKind == JsonValueKind.Object && agent.Definition.Metadata.TryGetProperty("description", out var given)
            && given.ValueKind == JsonValueKind.String
            ? given.GetString()!
            : $"Runs the agent '{agent.Name}' (version {agent.Version}) as a durable run and answers with its output.";
        return new Tool
        {
            Name = agent.Name,
            Title = agent.Name,
            Description = description,
            InputSchema = InputSchema,
            OutputSchema = ObjectSchema(agent.Definition.OutputSchema),
            Annotations = new ToolAnnotations { ReadOnlyHint = false, OpenWorldHint = true, IdempotentHint = false },
        };
    }

    /// <summary>MCP declares structured output only for an object schema; any other output is text alone.</summary>
    private static JsonElement? ObjectSchema(JsonElement? schema) =>
        schema is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "object"
            ? s
            : null;

    private static string? ArgumentProblem(IDictionary<string, JsonElement> arguments)
    {
        if (arguments.Keys.FirstOrDefault(k => k is not ("goal" or "input")) is { } unknown)
        {
            return $"Unknown argument '{unknown}': the arguments are goal and, optionally, input.";
        }

        if (!arguments.TryGetValue("goal", out var goal) || goal.ValueKind != JsonValueKind.String || goal.GetString() is not { Length: > 0 and <= MaxGoalLength } text
            || string.IsNullOrWhiteSpace(text))
        {
            return $"goal is what the run is to achieve: a string of 1 to {MaxGoalLength:N0} characters.";
        }

        return arguments.TryGetValue("input", out var input) && input.GetRawText().Length > MaxInputBytes
            ? $"input is at most {MaxInputBytes / 1024} KB of JSON."
            : null;
    }

    private static CallToolResult Result(RunRow run, AgentVersion agent)
    {
        var meta = new JsonObject { [RunIdMeta] = run.Id.ToString() };
        if (run.State != RunStates.Succeeded)
        {
            var error = Error($"The run {run.Id} ended {run.State}: {run.Reason}");
            error.Meta = meta;
            return error;
        }

        var output = run.Output is null ? null : JsonNode.Parse(run.Output);
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = output is JsonValue value && value.TryGetValue<string>(out var text) ? text : output?.ToJsonString() ?? "" }],
            StructuredContent = ObjectSchema(agent.Definition.OutputSchema) is not null && output is JsonObject ? JsonSerializer.SerializeToElement(output) : null,
            Meta = meta,
        };
    }

    private static CallToolResult Error(string message) => new() { IsError = true, Content = [new TextContentBlock { Text = message }] };
}
