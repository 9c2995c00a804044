using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Tool.Registry;

namespace Platform.Tool.Builtins;

/// <summary>Matches of a regular expression in a text; patterns run with a time limit, so none can hang the service.</summary>
public sealed class RegexExtractTool : IBuiltinTool
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(200);

    public ToolDefinition Definition { get; } = Builtin.Define("regex_extract",
        "Extracts the matches of a .NET regular expression from a text; returns each match's value and named or numbered groups.",
        SideEffects.ReadOnly,
        """{"type":"object","properties":{"text":{"type":"string","maxLength":1000000},"pattern":{"type":"string","minLength":1,"maxLength":1000},"maxMatches":{"type":"integer","minimum":1,"maximum":1000}},"required":["text","pattern"],"additionalProperties":false}""");

    public Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var max = arguments.TryGetProperty("maxMatches", out var m) ? m.GetInt32() : 100;
        try
        {
            var regex = new Regex(arguments.GetProperty("pattern").GetString()!, RegexOptions.None, MatchTimeout);
            var matches = new JsonArray();
            foreach (Match match in regex.Matches(arguments.GetProperty("text").GetString()!).Take(max))
            {
                var groups = new JsonObject();
                foreach (var group in match.Groups.Cast<Group>().Skip(1))
                {
                    groups[group.Name] = group.Success ? group.Value : null;
                }

                matches.Add(new JsonObject { ["value"] = match.Value, ["index"] = match.Index, ["groups"] = groups });
            }

            return Task.FromResult<JsonNode?>(new JsonObject { ["matches"] = matches });
        }
        catch (ArgumentException e)
        {
            throw new ToolFailedException($"The pattern is not a valid regular expression: {e.Message}", retryable: false);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new ToolFailedException("The pattern took too long on this text.");
        }
    }
}

/// <summary>Fills <c>{{name}}</c> placeholders (dotted paths into the values) in a template; no code runs.</summary>
public sealed partial class TemplateRenderTool : IBuiltinTool
{
    public ToolDefinition Definition { get; } = Builtin.Define("template_render",
        "Renders a text template, replacing {{name}} or {{a.b}} with values; a missing value is an error.",
        SideEffects.ReadOnly,
        """{"type":"object","properties":{"template":{"type":"string","maxLength":100000},"values":{"type":"object"}},"required":["template","values"],"additionalProperties":false}""");

    public Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var values = arguments.GetProperty("values");
        var text = Placeholder().Replace(arguments.GetProperty("template").GetString()!, match =>
        {
            var value = JsonPointer.Resolve(values, "/" + match.Groups[1].Value.Replace(".", "/", StringComparison.Ordinal))
                ?? throw new ToolFailedException($"No value for '{match.Groups[1].Value}'.", retryable: false);
            return value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        });
        return Task.FromResult<JsonNode?>(new JsonObject { ["text"] = text });
    }

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}")]
    private static partial Regex Placeholder();
}

/// <summary>Picks a value out of a JSON document by JSON Pointer.</summary>
public sealed class JsonQueryTool : IBuiltinTool
{
    public ToolDefinition Definition { get; } = Builtin.Define("json_query",
        "Returns the value at a JSON Pointer (RFC 6901, e.g. /items/0/name) in a JSON document.",
        SideEffects.ReadOnly,
        """{"type":"object","properties":{"document":{},"pointer":{"type":"string","maxLength":1000}},"required":["document","pointer"],"additionalProperties":false}""");

    public Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var pointer = arguments.GetProperty("pointer").GetString()!;
        var value = JsonPointer.Resolve(arguments.GetProperty("document"), pointer);
        return Task.FromResult<JsonNode?>(new JsonObject
        {
            ["found"] = value is not null,
            ["value"] = value is { } found ? JsonNode.Parse(found.GetRawText()) : null,
        });
    }
}

/// <summary>The current time, in UTC or an IANA time zone.</summary>
public sealed class CurrentTimeTool(TimeProvider time) : IBuiltinTool
{
    public ToolDefinition Definition { get; } = Builtin.Define("current_time",
        "The current date and time, in UTC or in an IANA time zone such as Europe/Paris.",
        SideEffects.ReadOnly,
        """{"type":"object","properties":{"timeZone":{"type":"string","maxLength":100}},"additionalProperties":false}""");

    public Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var zoneId = arguments.TryGetProperty("timeZone", out var zone) ? zone.GetString()! : "UTC";
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out var timeZone))
        {
            throw new ToolFailedException($"Unknown time zone '{zoneId}'.", retryable: false);
        }

        var now = TimeZoneInfo.ConvertTime(time.GetUtcNow(), timeZone);
        return Task.FromResult<JsonNode?>(new JsonObject { ["iso"] = now.ToString("O", System.Globalization.CultureInfo.InvariantCulture), ["timeZone"] = timeZone.Id });
    }
}
