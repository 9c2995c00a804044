using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Json;
using Platform.ServiceDefaults.Net;

namespace Platform.Orchestrator.Agents;

/// <summary>
/// Turns a request into a definition every run can execute, or says which fields are wrong: an agent that was stored
/// never fails a later read, list or run because of what it holds.
/// </summary>
public static partial class AgentValidation
{
    public const int MaxInstructionsLength = 32_768;
    public const int MaxTools = 128;
    public const int MaxMetadataBytes = 16 * 1024;
    public const int MaxOutputSchemaBytes = 64 * 1024;

    // Stored JSON is read back inside responses that nest it two levels deeper (a list's items), and the serializer
    // stops at 64 levels: half of that leaves room for any wrapping.
    private const int MaxJsonDepth = 32;

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static async Task<(AgentDefinition? Definition, Dictionary<string, string[]> Errors)> ValidateAsync(AgentRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];

        if (request.Instructions is { Length: > MaxInstructionsLength })
        {
            Fail("instructions", $"At most {MaxInstructionsLength} characters.");
        }

        if (!IsModelAlias(request.Model))
        {
            Fail("model", "A model gateway alias is required: 1 to 100 letters, digits, '.', '_', ':', '/' or '-'.");
        }

        if (request.FallbackModel is not null && !IsModelAlias(request.FallbackModel))
        {
            Fail("fallbackModel", "A model gateway alias: 1 to 100 letters, digits, '.', '_', ':', '/' or '-'.");
        }

        if (request.AcceptanceModel is not null && !IsModelAlias(request.AcceptanceModel))
        {
            Fail("acceptanceModel", "A model gateway alias: 1 to 100 letters, digits, '.', '_', ':', '/' or '-'.");
        }

        CheckToolNames(request.Tools, "tools", errors);

        AgentMode? mode = request.Mode switch
        {
            null or "plan" => AgentMode.Plan,
            "react" => AgentMode.React,
            _ => null,
        };
        if (mode is null)
        {
            Fail("mode", "One of: plan (the default), react.");
        }

        CheckRange(request.MaxSteps, 1, 100, "maxSteps", errors);
        CheckRange(request.MaxToolCalls, 0, 200, "maxToolCalls", errors);
        CheckRange(request.MaxReplans, 0, 10, "maxReplans", errors);
        if (request.BudgetUsd is <= 0 or > 10_000)
        {
            Fail("budgetUsd", "More than 0 and at most 10000 (USD).");
        }

        var timeouts = new AgentTimeouts(request.Timeouts?.RunSeconds ?? 3600, request.Timeouts?.StepSeconds ?? 120);
        CheckRange(timeouts.RunSeconds, 1, 86_400, "timeouts.runSeconds", errors);
        CheckRange(timeouts.StepSeconds, 1, 3600, "timeouts.stepSeconds", errors);
        if (!errors.ContainsKey("timeouts.runSeconds") && !errors.ContainsKey("timeouts.stepSeconds") && timeouts.StepSeconds > timeouts.RunSeconds)
        {
            Fail("timeouts.stepSeconds", "A step cannot have longer than the whole run (timeouts.runSeconds).");
        }

        var retries = new AgentRetries(request.Retries?.MaxAttempts ?? 3, request.Retries?.BackoffSeconds ?? 2);
        CheckRange(retries.MaxAttempts, 1, 10, "retries.maxAttempts", errors);
        CheckRange(retries.BackoffSeconds, 0, 600, "retries.backoffSeconds", errors);

        var approvals = new AgentApprovals(request.Approvals?.Require ?? [], request.Approvals?.Skip ?? []);
        CheckToolNames(approvals.Require, "approvals.require", errors);
        CheckToolNames(approvals.Skip, "approvals.skip", errors);
        if (approvals.Require.Intersect(approvals.Skip, StringComparer.Ordinal).FirstOrDefault() is { } both)
        {
            Fail("approvals.skip", $"'{both}' is also in approvals.require: a tool either always needs approval or never does.");
        }

        var compensations = Compensations(request.Compensations, errors);

        if (request.OutputSchema is { ValueKind: not JsonValueKind.Null } outputSchema && await OutputSchemaProblemAsync(outputSchema) is { } schemaProblem)
        {
            Fail("outputSchema", schemaProblem);
        }

        if (request.WebhookUrl is not null && HttpUrl.Problem(request.WebhookUrl) is { } urlProblem)
        {
            Fail("webhookUrl", urlProblem);
        }

        if (request.Metadata is { ValueKind: not JsonValueKind.Null } metadata
            && (metadata.ValueKind != JsonValueKind.Object ? "A JSON object." : JsonProblem(metadata, MaxMetadataBytes)) is { } metadataProblem)
        {
            Fail("metadata", metadataProblem);
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var definition = new AgentDefinition(
            request.Instructions ?? "",
            request.Model!,
            request.FallbackModel,
            request.AcceptanceModel,
            request.Tools ?? [],
            mode!.Value,
            request.MaxSteps ?? 20,
            request.MaxToolCalls ?? 50,
            request.MaxReplans ?? 2,
            request.BudgetUsd,
            timeouts,
            retries,
            approvals,
            compensations,
            request.OutputSchema is { ValueKind: not JsonValueKind.Null } schema ? schema.Clone() : null,
            request.WebhookUrl,
            request.Metadata is { ValueKind: JsonValueKind.Object } given ? given.Clone() : EmptyObject);
        return (definition, errors);
    }

    private static Dictionary<string, AgentCompensation> Compensations(
        IReadOnlyDictionary<string, AgentCompensationRequest?>? requested, Dictionary<string, string[]> errors)
    {
        var compensations = new Dictionary<string, AgentCompensation>(StringComparer.Ordinal);
        if (requested is null)
        {
            return compensations;
        }

        if (requested.Count > MaxTools)
        {
            errors["compensations"] = [$"At most {MaxTools} tools."];
            return compensations;
        }

        foreach (var (tool, compensation) in requested)
        {
            var field = $"compensations.{tool}";
            if (!ToolNamePattern().IsMatch(tool))
            {
                errors[field] = ["Keyed by the name of the tool whose effect it undoes (such as http.book_flight)."];
            }
            else if (compensation?.Tool is not { } undo || !ToolNamePattern().IsMatch(undo))
            {
                errors[$"{field}.tool"] = ["The tool that undoes the call: 1 to 200 letters, digits, '.', '_' or '-'."];
            }
            else if (compensation.Arguments is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
            {
                errors[$"{field}.arguments"] = ["A JSON object."];
            }
            else if (compensation.Arguments is { ValueKind: JsonValueKind.Object } arguments && JsonProblem(arguments, MaxMetadataBytes) is { } problem)
            {
                errors[$"{field}.arguments"] = [problem];
            }
            else
            {
                compensations[tool] = new AgentCompensation(undo,
                    compensation.Arguments is { ValueKind: JsonValueKind.Object } given ? given.Clone() : EmptyObject);
            }
        }

        return compensations;
    }

    private static void CheckRange(int? value, int min, int max, string field, Dictionary<string, string[]> errors)
    {
        if (value < min || value > max)
        {
            errors[field] = [$"From {min} to {max}."];
        }
    }

    private static void CheckToolNames(IReadOnlyList<string>? names, string field, Dictionary<string, string[]> errors)
    {
        if (names is null)
        {
            return;
        }

        if (names.Count > MaxTools)
        {
            errors[field] = [$"At most {MaxTools} tool names."];
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] is not { } name || !ToolNamePattern().IsMatch(name))
            {
                errors[$"{field}[{i}]"] = ["A tool name (such as builtin.calculator or http.lookup): 1 to 200 letters, digits, '.', '_' or '-'."];
            }
            else if (!seen.Add(name))
            {
                errors[$"{field}[{i}]"] = [$"'{name}' is listed twice."];
            }
        }
    }

    /// <summary>Compiled the tool service's way, so a run can validate an output against it without fetching or failing.</summary>
    private static async Task<string?> OutputSchemaProblemAsync(JsonElement schema) =>
        schema.ValueKind != JsonValueKind.Object ? "A JSON Schema object."
        : JsonProblem(schema, MaxOutputSchemaBytes) is { } problem ? problem
        : (await SchemaCheck.CompileAsync(schema)).Problem is { } compile ? $"The schema cannot be used: {compile}."
        : null;

    private static string? JsonProblem(JsonElement value, int maxBytes)
    {
        if (JsonSerializer.SerializeToUtf8Bytes(value).Length > maxBytes)
        {
            return $"At most {maxBytes / 1024} KB as compact JSON.";
        }

        return ValueProblem(value, "", 1);
    }

    /// <summary>
    /// Numbers a double holds (jsonb's numeric refuses some far beyond, and every reader expects a double), nested at
    /// most <see cref="MaxJsonDepth"/> levels.
    /// </summary>
    private static string? ValueProblem(JsonElement value, string at, int depth)
    {
        if (depth > MaxJsonDepth)
        {
            return $"Nested at most {MaxJsonDepth} levels deep.";
        }

        return value.ValueKind switch
        {
            JsonValueKind.Object => value.EnumerateObject().Select(p => ValueProblem(p.Value, $"{at}/{p.Name}", depth + 1)).FirstOrDefault(p => p is not null),
            JsonValueKind.Array => value.EnumerateArray().Select((item, i) => ValueProblem(item, $"{at}/{i}", depth + 1)).FirstOrDefault(p => p is not null),
            JsonValueKind.Number when !IsDouble(value.GetRawText()) => $"'{at}': the number is beyond the range of a double.",
            _ => null,
        };
    }

    /// <summary>Finite as a double, and not a non-zero number so small that it reads as zero.</summary>
    private static bool IsDouble(string raw) =>
        double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
        && (number != 0 || !raw.TakeWhile(c => c is not ('e' or 'E')).Any(c => c is >= '1' and <= '9'));

    private static bool IsModelAlias(string? alias) => alias is not null && ModelAliasPattern().IsMatch(alias);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}\\z")]
    private static partial Regex NamePattern();

    // The model gateway's own alias pattern (services/model/Catalog/AliasValidation.cs).
    [GeneratedRegex("^[A-Za-z0-9._:/-]{1,100}\\z")]
    private static partial Regex ModelAliasPattern();

    // Built-in, HTTP, imported and MCP tools (mcp.{server}.{tool}) all fit.
    [GeneratedRegex("^[A-Za-z0-9_.-]{1,200}\\z")]
    private static partial Regex ToolNamePattern();
}

public sealed record AgentRequest(
    string? Name,
    string? Instructions,
    string? Model,
    string? FallbackModel,
    string? AcceptanceModel,
    string[]? Tools,
    string? Mode,
    int? MaxSteps,
    int? MaxToolCalls,
    int? MaxReplans,
    decimal? BudgetUsd,
    AgentTimeoutsRequest? Timeouts,
    AgentRetriesRequest? Retries,
    AgentApprovalsRequest? Approvals,
    IReadOnlyDictionary<string, AgentCompensationRequest?>? Compensations,
    JsonElement? OutputSchema,
    string? WebhookUrl,
    JsonElement? Metadata);

public sealed record AgentTimeoutsRequest(int? RunSeconds, int? StepSeconds);

public sealed record AgentRetriesRequest(int? MaxAttempts, int? BackoffSeconds);

public sealed record AgentApprovalsRequest(string[]? Require, string[]? Skip);

public sealed record AgentCompensationRequest(string? Tool, JsonElement? Arguments);
