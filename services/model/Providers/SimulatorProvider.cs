using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Model.Catalog;
using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>
/// The embedded default provider: a deterministic simulator, not a language model. It exercises what the platform
/// does with real models: it calls a tool when the last user turn names one or clearly matches one description (with
/// arguments that satisfy the tool's schema), answers <c>json_schema</c> formats with a schema-valid object, otherwise
/// answers in text that summarises the conversation and tool results, streams token by token and reports usage.
/// The same request always gets the same answer.
/// </summary>
public sealed partial class SimulatorProvider : IChatProvider, IEmbeddingProvider
{
    public const string ProviderName = "simulator";
    private const string Label = "[simulator]";
    private const int DefaultDimensions = 256;

    public string Name => ProviderName;

    public Task<ChatCompletion> CompleteAsync(ChatRequest request, ModelDeployment deployment, CancellationToken cancellationToken) =>
        Task.FromResult(Answer(request, deployment));

    public async IAsyncEnumerable<ChatChunk> StreamAsync(
        ChatRequest request, ModelDeployment deployment, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var chunk in CompletionChunks.From(Answer(request, deployment)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return chunk;
        }
    }

    /// <summary>
    /// Deterministic vectors from hashed words (a bag of words in <c>dimensions</c> buckets, normalised), so texts that
    /// share words lie close together, as real embeddings of them would.
    /// </summary>
    public Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, ModelDeployment deployment, CancellationToken cancellationToken)
    {
        var dimensions = request.Dimensions ?? DefaultDimensions;
        var vectors = request.Inputs.Select(input =>
        {
            var vector = new float[dimensions];
            foreach (Match word in WordPattern().Matches(input.ToLowerInvariant()))
            {
                var hash = SHA256.HashData(Encoding.UTF8.GetBytes(word.Value));
                vector[BitConverter.ToUInt32(hash, 0) % dimensions] += (hash[4] & 1) == 0 ? 1f : -1f;
            }

            var norm = MathF.Sqrt(vector.Sum(v => v * v));
            return norm == 0 ? vector : vector.Select(v => v / norm).ToArray();
        }).ToList();
        var tokens = request.Inputs.Sum(TokenCounter.For(deployment).Count);
        return Task.FromResult(new EmbeddingResult(vectors, deployment.UpstreamModel, new Usage(tokens, 0)));
    }

    private static ChatCompletion Answer(ChatRequest request, ModelDeployment deployment)
    {
        var id = "chatcmpl-sim" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(request.Body.ToJsonString())))[..24];
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var counter = TokenCounter.For(deployment);
        var promptTokens = counter.Prompt(request);

        var toolCalls = ChooseTools(request).Select((tool, i) => new ToolCall(
            $"call_{id[^12..]}{i}", tool.Name, ToolArguments(tool, request))).ToList();
        if (toolCalls.Count > 0)
        {
            var argumentsTokens = toolCalls.Sum(c => counter.Count(c.Name) + counter.Count(c.Arguments));
            return new ChatCompletion(id, created, deployment.UpstreamModel, new ChatMessage("assistant", null, toolCalls, null, null),
                "tool_calls", new Usage(promptTokens, argumentsTokens));
        }

        var content = request.ResponseFormat.Type switch
        {
            "json_schema" when SimulatorPlanner.Plan(request) is { } plan => plan,
            "json_schema" when request.ResponseFormat.Schema is { } schema => SampleJson(schema, request, "response_format.json_schema.schema"),
            "json_object" => new JsonObject { ["simulated"] = true, ["answer"] = TextAnswer(request) }.ToJsonString(),
            _ => TextAnswer(request),
        };
        var finishReason = "stop";
        foreach (var stop in request.Stop)
        {
            var at = content.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0)
            {
                content = content[..at];
            }
        }

        var contentTokens = counter.Count(content);
        if (request.MaxTokens is { } maxTokens && contentTokens > maxTokens)
        {
            content = counter.Truncate(content, maxTokens);
            contentTokens = counter.Count(content);
            finishReason = "length";
        }

        return new ChatCompletion(id, created, deployment.UpstreamModel, new ChatMessage("assistant", content, [], null, null),
            finishReason, new Usage(promptTokens, contentTokens));
    }

    /// <summary>
    /// The tools the last user turn asks for: those it names, in the order named, else the one whose description it
    /// clearly matches. After tool results come back the simulator answers instead of calling again.
    /// </summary>
    private static List<ToolDefinition> ChooseTools(ChatRequest request)
    {
        if (request.Tools.Count == 0 || request.ToolChoice.Mode == "none")
        {
            return [];
        }

        if (request.ToolChoice.Mode == "function")
        {
            return request.Tools.Where(t => t.Name == request.ToolChoice.FunctionName).Take(1).ToList();
        }

        var last = request.Messages[^1];
        if (last.Role != "user")
        {
            return request.ToolChoice.Mode == "required" ? [request.Tools[0]] : [];
        }

        var text = last.Content ?? "";
        var named = request.Tools
            .Select(t => (Tool: t, At: NamePositions(t.Name).Select(n => text.IndexOf(n, StringComparison.OrdinalIgnoreCase)).Where(i => i >= 0).DefaultIfEmpty(-1).Min()))
            .Where(t => t.At >= 0)
            .OrderBy(t => t.At)
            .Select(t => t.Tool)
            .ToList();
        if (named.Count > 0)
        {
            return named;
        }

        var words = Words(text);
        var scored = request.Tools.Select(t => (Tool: t, Score: Words(t.Description ?? "").Count(words.Contains))).OrderByDescending(t => t.Score).ToList();
        if (scored[0].Score >= 2 && (scored.Count == 1 || scored[1].Score < scored[0].Score))
        {
            return [scored[0].Tool];
        }

        return request.ToolChoice.Mode == "required" ? [request.Tools[0]] : [];
    }

    /// <summary>How a user might write a tool's name: as is, with spaces, or its last dotted part.</summary>
    private static IEnumerable<string> NamePositions(string name)
    {
        yield return name;
        yield return name.Replace('_', ' ').Replace('.', ' ').Replace('-', ' ');
        if (name.Contains('.', StringComparison.Ordinal))
        {
            yield return name[(name.LastIndexOf('.') + 1)..];
        }
    }

    private static string ToolArguments(ToolDefinition tool, ChatRequest request) => tool.Parameters is { } schema
        ? SampleJson(schema, request, $"tools[{request.Tools.ToList().IndexOf(tool)}].function.parameters")
        : "{}";

    /// <summary>A schema asking for more than the simulator builds is refused as a real upstream would: a 400 naming it.</summary>
    private static string SampleJson(JsonElement schema, ChatRequest request, string param)
    {
        try
        {
            return new SchemaSampler(schema, Hints(request)).Sample()?.ToJsonString() ?? "{}";
        }
        catch (SchemaTooLargeException e)
        {
            var message = $"The simulator cannot build a value for '{param}': {e.Message}.";
            throw new UpstreamException(message, UpstreamFailure.Request, System.Net.HttpStatusCode.BadRequest)
            {
                ClientError = OpenAiError.InvalidRequest(message, param, "schema_too_large"),
            };
        }
    }

    /// <summary>Values a user put in quotes in the last turn, which tool arguments and structured answers reuse.</summary>
    private static List<string> Hints(ChatRequest request)
    {
        var text = request.Messages.LastOrDefault(m => m.Role == "user")?.Content ?? "";
        return QuotedPattern().Matches(text).Select(m => m.Groups[1].Value).ToList();
    }

    private static string TextAnswer(ChatRequest request)
    {
        var answer = new StringBuilder(Label).Append(" This is the platform's deterministic simulator, not a language model.");
        var results = request.Messages.SkipWhile(m => m.Role != "assistant" || m.ToolCalls.Count == 0).Where(m => m.Role == "tool").ToList();
        if (results.Count > 0)
        {
            var names = request.Messages.SelectMany(m => m.ToolCalls).DistinctBy(c => c.Id).ToDictionary(c => c.Id, c => c.Name);
            answer.Append(" Tool results: ").AppendJoin("; ", results.Select(r =>
                $"{names.GetValueOrDefault(r.ToolCallId ?? "", "tool")} returned {Shorten(r.Content, 200)}")).Append('.');
        }

        var lastUser = request.Messages.LastOrDefault(m => m.Role == "user")?.Content;
        if (lastUser is not null)
        {
            answer.Append(" You asked: \"").Append(Shorten(lastUser, 200)).Append("\".");
        }

        return answer.Append(" The conversation has ").Append(request.Messages.Count).Append(request.Messages.Count == 1 ? " message." : " messages.").ToString();
    }

    private static HashSet<string> Words(string text) =>
        WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value).Where(w => w.Length >= 4).ToHashSet();

    private static string Shorten(string? text, int length) =>
        text is null ? "" : text.Length <= length ? text : text[..length] + "…";

    [GeneratedRegex("\"([^\"]{1,200})\"")]
    private static partial Regex QuotedPattern();

    [GeneratedRegex("[a-z0-9]+")]
    private static partial Regex WordPattern();
}
