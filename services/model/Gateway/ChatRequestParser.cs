using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Model.Gateway;

/// <summary>
/// Reads an OpenAI chat completions body, answering every mistake with OpenAI's 400 and the offending parameter, the
/// way its own API does: wrong types, missing messages, unknown parameters.
/// </summary>
public static class ChatRequestParser
{
    private static readonly HashSet<string> KnownParameters =
    [
        "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "response_format", "temperature", "top_p",
        "max_tokens", "max_completion_tokens", "stop", "user", "stream", "stream_options", "n", "seed", "presence_penalty",
        "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "store", "metadata", "service_tier",
        "reasoning_effort", "modalities", "prediction", "audio", "web_search_options", "functions", "function_call",
        "safety_identifier", "prompt_cache_key", "verbosity",
    ];

    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];
    private static readonly string[] PartTypes = ["text", "image_url", "input_audio", "file", "refusal"];

    public static (ChatRequest? Request, OpenAiError? Error) Parse(JsonElement body)
    {
        try
        {
            return (Read(body), null);
        }
        catch (RequestException e)
        {
            return (null, e.Error);
        }
    }

    private static ChatRequest Read(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("The request body must be a JSON object.", null);
        }

        foreach (var property in body.EnumerateObject())
        {
            if (!KnownParameters.Contains(property.Name))
            {
                throw Invalid($"Unrecognized request argument supplied: {property.Name}", property.Name, "unknown_parameter");
            }
        }

        var model = RequiredString(body, "model");
        if (!body.TryGetProperty("messages", out var messagesElement) || messagesElement.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("'messages' is a required property and must be an array.", "messages");
        }

        var messages = messagesElement.EnumerateArray().Select((m, i) => ReadMessage(m, $"messages[{i}]")).ToList();
        if (messages.Count == 0)
        {
            throw Invalid("'messages' must contain at least one message.", "messages");
        }

        if (Optional(body, "n", JsonValueKind.Number) is { } n && (!n.TryGetInt32(out var choices) || choices != 1))
        {
            throw Invalid("Only n=1 is supported.", "n");
        }

        var temperature = Optional(body, "temperature", JsonValueKind.Number)?.GetDouble();
        if (temperature is < 0 or > 2)
        {
            throw Invalid($"{temperature} is not a valid temperature: it must be between 0 and 2.", "temperature");
        }

        var maxTokens = PositiveInt(body, "max_completion_tokens") ?? PositiveInt(body, "max_tokens");
        var stream = Optional(body, "stream", JsonValueKind.True, JsonValueKind.False)?.GetBoolean() ?? false;
        var includeUsage = false;
        if (Optional(body, "stream_options", JsonValueKind.Object) is { } streamOptions)
        {
            if (!stream)
            {
                throw Invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
            }

            includeUsage = Optional(streamOptions, "include_usage", JsonValueKind.True, JsonValueKind.False)?.GetBoolean() ?? false;
        }

        return new ChatRequest(
            model,
            messages,
            ReadTools(body),
            ReadToolChoice(body),
            ReadResponseFormat(body),
            temperature,
            maxTokens,
            ReadStop(body),
            Optional(body, "user", JsonValueKind.String)?.GetString(),
            stream,
            includeUsage,
            JsonNode.Parse(body.GetRawText())!.AsObject());
    }

    private static ChatMessage ReadMessage(JsonElement message, string path)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{path} must be an object.", path);
        }

        var role = RequiredString(message, "role", path);
        if (!Roles.Contains(role))
        {
            throw Invalid($"Invalid value for '{path}.role': '{role}'. Supported values are: {string.Join(", ", Roles)}.", $"{path}.role");
        }

        var toolCalls = new List<ToolCall>();
        if (role == "assistant" && Optional(message, "tool_calls", JsonValueKind.Array) is { } calls)
        {
            var index = 0;
            foreach (var call in calls.EnumerateArray())
            {
                var callPath = $"{path}.tool_calls[{index++}]";
                if (call.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid($"{callPath} must be an object.", callPath);
                }

                var function = Optional(call, "function", JsonValueKind.Object) ?? throw Invalid($"{callPath}.function is required.", $"{callPath}.function");
                toolCalls.Add(new ToolCall(RequiredString(call, "id", callPath), RequiredString(function, "name", $"{callPath}.function"),
                    Optional(function, "arguments", JsonValueKind.String)?.GetString() ?? "{}"));
            }
        }

        var content = ReadContent(message, path);
        if (content is null && toolCalls.Count == 0)
        {
            throw Invalid($"{path}.content is required for a {role} message.", $"{path}.content");
        }

        var toolCallId = role == "tool" ? RequiredString(message, "tool_call_id", path) : null;
        return new ChatMessage(role, content, toolCalls, toolCallId, Optional(message, "name", JsonValueKind.String)?.GetString());
    }

    /// <summary>A string, or an array of parts whose text parts are joined; other parts are left to the provider.</summary>
    private static string? ReadContent(JsonElement message, string path)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString(),
            JsonValueKind.Array => string.Join("\n", content.EnumerateArray().Select((part, i) => ReadPart(part, $"{path}.content[{i}]")).OfType<string>()),
            _ => throw Invalid($"{path}.content must be a string or an array of content parts.", $"{path}.content"),
        };
    }

    /// <summary>A text part's text; null for the other kinds of part.</summary>
    private static string? ReadPart(JsonElement part, string path)
    {
        if (part.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{path} must be an object.", path);
        }

        var type = RequiredString(part, "type", path);
        if (!PartTypes.Contains(type))
        {
            throw Invalid($"Invalid value: '{type}'. Supported values are: {string.Join(", ", PartTypes.Select(t => $"'{t}'"))}.", $"{path}.type", "invalid_value");
        }

        return type != "text" ? null
            : part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()
            : throw Invalid($"{path} is a text part without a string 'text'.", $"{path}.text");
    }

    private static List<ToolDefinition> ReadTools(JsonElement body)
    {
        var tools = new List<ToolDefinition>();
        if (Optional(body, "tools", JsonValueKind.Array) is not { } array)
        {
            return tools;
        }

        var index = 0;
        foreach (var tool in array.EnumerateArray())
        {
            var path = $"tools[{index++}]";
            if (tool.ValueKind != JsonValueKind.Object || RequiredString(tool, "type", path) != "function")
            {
                throw Invalid($"{path}.type must be 'function'.", $"{path}.type");
            }

            var function = Optional(tool, "function", JsonValueKind.Object) ?? throw Invalid($"{path}.function is required.", $"{path}.function");
            var parameters = Optional(function, "parameters", JsonValueKind.Object);
            CheckSchema(parameters, $"{path}.function.parameters");
            tools.Add(new ToolDefinition(RequiredString(function, "name", $"{path}.function"),
                Optional(function, "description", JsonValueKind.String)?.GetString(), parameters?.Clone()));
        }

        return tools;
    }

    private static ToolChoice ReadToolChoice(JsonElement body)
    {
        if (!body.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return ToolChoice.Auto;
        }

        if (choice.ValueKind == JsonValueKind.String && choice.GetString() is "auto" or "none" or "required")
        {
            return new ToolChoice(choice.GetString()!, null);
        }

        if (choice.ValueKind == JsonValueKind.Object && Optional(choice, "function", JsonValueKind.Object) is { } function)
        {
            return new ToolChoice("function", RequiredString(function, "name", "tool_choice.function"));
        }

        throw Invalid("tool_choice must be 'auto', 'none', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}.", "tool_choice");
    }

    private static ResponseFormat ReadResponseFormat(JsonElement body)
    {
        if (Optional(body, "response_format", JsonValueKind.Object) is not { } format)
        {
            return ResponseFormat.Text;
        }

        var type = RequiredString(format, "type", "response_format");
        switch (type)
        {
            case "text" or "json_object":
                return new ResponseFormat(type, null, null);
            case "json_schema":
                var jsonSchema = Optional(format, "json_schema", JsonValueKind.Object)
                    ?? throw Invalid("response_format.json_schema is required when type is 'json_schema'.", "response_format.json_schema");
                var schema = jsonSchema.TryGetProperty("schema", out var value) && value.ValueKind != JsonValueKind.Null ? value : (JsonElement?)null;
                CheckSchema(schema, "response_format.json_schema.schema");
                return new ResponseFormat(type, RequiredString(jsonSchema, "name", "response_format.json_schema"), schema?.Clone());
            default:
                throw Invalid($"Invalid value: '{type}'. Supported values are: 'text', 'json_object' and 'json_schema'.", "response_format.type");
        }
    }

    private static List<string> ReadStop(JsonElement body)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        return stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.GetArrayLength() <= 4 && stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) =>
                stop.EnumerateArray().Select(s => s.GetString()!).ToList(),
            _ => throw Invalid("'stop' must be a string or an array of at most 4 strings.", "stop"),
        };
    }

    private static int? PositiveInt(JsonElement body, string name)
    {
        if (Optional(body, name, JsonValueKind.Number) is not { } value)
        {
            return null;
        }

        return value.TryGetInt32(out var number) && number > 0 ? number : throw Invalid($"'{name}' must be a positive integer.", name);
    }

    private static string RequiredString(JsonElement element, string name, string? path = null)
    {
        var param = path is null ? name : $"{path}.{name}";
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Invalid($"'{param}' is a required property.", param);
        }

        return value.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(value.GetString())
            ? value.GetString()!
            : throw Invalid($"'{param}' must be a non-empty string.", param);
    }

    /// <summary>The property when present and not null; a 400 naming it when it has another type.</summary>
    private static JsonElement? Optional(JsonElement element, string name, params JsonValueKind[] kinds)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return kinds.Contains(value.ValueKind)
            ? value
            : throw Invalid($"Invalid type for '{name}': expected {string.Join(" or ", kinds.Select(Describe))}, but got {Describe(value.ValueKind)}.", name, "invalid_type");
    }

    /// <summary>A malformed schema is the client's mistake: a 400 before any upstream sees it.</summary>
    private static void CheckSchema(JsonElement? schema, string path)
    {
        if (schema is { } value && (value.ValueKind != JsonValueKind.Object ? (path, "a schema is an object") : JsonSchemaCheck.Problem(value, path)) is { } problem)
        {
            throw Invalid($"Invalid JSON schema at '{problem.Path}': {problem.Problem}.", problem.Path, "invalid_json_schema");
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Number => "a number",
        JsonValueKind.String => "a string",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static RequestException Invalid(string message, string? param, string? code = null) => new(OpenAiError.InvalidRequest(message, param, code));

    private sealed class RequestException(OpenAiError error) : Exception(error.Message)
    {
        public OpenAiError Error { get; } = error;
    }
}
