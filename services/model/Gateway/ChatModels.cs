using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Model.Gateway;

/// <summary>A chat request as the gateway understands it, whatever provider serves it.</summary>
public sealed record ChatRequest(
    string Model,
    IReadOnlyList<ChatMessage> Messages,
    IReadOnlyList<ToolDefinition> Tools,
    ToolChoice ToolChoice,
    ResponseFormat ResponseFormat,
    double? Temperature,
    int? MaxTokens,
    IReadOnlyList<string> Stop,
    string? User,
    bool Stream,
    bool IncludeUsage,
    JsonObject Body);

public sealed record ChatMessage(string Role, string? Content, IReadOnlyList<ToolCall> ToolCalls, string? ToolCallId, string? Name);

public sealed record ToolCall(string Id, string Name, string Arguments);

public sealed record ToolDefinition(string Name, string? Description, JsonElement? Parameters);

/// <summary><c>auto</c>, <c>none</c>, <c>required</c>, or <c>function</c> with the function named.</summary>
public sealed record ToolChoice(string Mode, string? FunctionName)
{
    public static readonly ToolChoice Auto = new("auto", null);
}

/// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c> with its schema.</summary>
public sealed record ResponseFormat(string Type, string? SchemaName, JsonElement? Schema)
{
    public static readonly ResponseFormat Text = new("text", null, null);
}

public sealed record ChatCompletion(string Id, long Created, string Model, ChatMessage Message, string FinishReason, Usage Usage);

public sealed record Usage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
