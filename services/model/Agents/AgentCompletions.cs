using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Model.Gateway;
using Platform.Model.Providers;

namespace Platform.Model.Agents;

/// <summary>
/// <c>model: "agent:&lt;name&gt;[@&lt;version&gt;]"</c> in a chat completion: the conversation becomes a durable run of
/// the agent (the last user message its goal, the earlier messages its input), and the run's output the assistant's
/// answer. Streamed, the answer's tokens come from the model step whose output the run's output is, as the run makes
/// them. The run is the caller's (its key starts it), billed by its own steps, and cancelled if the caller goes away.
/// </summary>
public sealed class AgentCompletions(AgentRuns runs, IHostApplicationLifetime lifetime)
{
    public const string Prefix = "agent:";
    public const string RunHeader = "x-platform-run-id";
    private const string Provider = "agent";

    public static bool Names(string model) => model.StartsWith(Prefix, StringComparison.Ordinal);

    public async Task HandleAsync(HttpContext context, ChatRequest request, string? idempotencyKey)
    {
        var token = context.RequestAborted;
        if (Parse(request.Model) is not { } agent)
        {
            await OpenAiError.ModelNotFound(request.Model).WriteAsync(context);
            return;
        }

        if (request.Messages is not [.., { Role: "user", Content: { Length: > 0 } goal }] || request.Tools.Count > 0)
        {
            await OpenAiError.InvalidRequest(request.Tools.Count > 0
                ? "An agent uses its own tools: a request for an agent declares none."
                : "An agent is asked by the conversation's last message, which is the user's, with text.", "messages").WriteAsync(context);
            return;
        }

        var conversation = new JsonArray([.. request.Messages.SkipLast(1).Select(m => new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);
        var (run, status, body) = await runs.StartAsync(agent.Name, agent.Version, goal, conversation.Count == 0 ? null : new JsonObject { ["messages"] = conversation },
            new JsonObject { ["source"] = "chat.completions" }, idempotencyKey ?? $"chat:{Guid.CreateVersion7()}", token);
        if (run is not { } started)
        {
            await Refusal(request.Model, status, body).WriteAsync(context);
            return;
        }

        var runId = started.GetProperty("id").GetString()!;
        context.Response.Headers[RunHeader] = runId;
        try
        {
            await AnswerAsync(context, request, runId, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested)
        {
            await runs.CancelAsync(runId);
        }
    }

    private async Task AnswerAsync(HttpContext context, ChatRequest request, string runId, CancellationToken token)
    {
        var stream = request.Stream ? new ChatResponses.Stream(context, request, request.Model, Provider, $"chatcmpl-{runId}") : null;
        if (stream is not null)
        {
            await stream.WriteAsync(new ChatChunk("assistant", null, [], null, null));
            await stream.FlushAsync();
        }

        var answerStep = (string?)null;
        var streamed = new StringBuilder();
        await foreach (var (type, data) in runs.EventsAsync(runId, token))
        {
            if (type is "run.planned" or "run.replanned")
            {
                answerStep = AnswerStep(await runs.GetAsync(runId, token));
            }
            else if (type == "delta" && stream is not null && answerStep is not null && data.GetProperty("step").GetString() == answerStep)
            {
                var text = data.GetProperty("delta").GetString();
                streamed.Append(text);
                await stream.WriteAsync(new ChatChunk(null, text, [], null, null));
                await stream.FlushAsync();
            }
        }

        var ended = await runs.GetAsync(runId, token);
        var usage = ended.GetProperty("usage");
        var tokens = new Usage(usage.GetProperty("promptTokens").GetInt32(), usage.GetProperty("completionTokens").GetInt32());
        var cost = usage.GetProperty("costUsd").GetDecimal();
        if (ended.GetProperty("state").GetString() != "succeeded")
        {
            var failed = new OpenAiError(StatusCodes.Status502BadGateway,
                $"The agent's run {runId} ended {ended.GetProperty("state").GetString()}: {ended.GetProperty("reason").GetString()}", "agent_error", null,
                $"run_{ended.GetProperty("state").GetString()}");
            await (stream is null ? failed.WriteAsync(context) : stream.FailAsync(failed));
            return;
        }

        var answer = Text(ended.GetProperty("output"));
        if (stream is null)
        {
            await ChatResponses.WriteAsync(context, request, new ChatCompletion($"chatcmpl-{runId}", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), request.Model,
                new ChatMessage("assistant", answer, [], null, null), "stop", tokens), Provider, cost);
            return;
        }

        // What the answer step streamed is the answer, unless the plan ended otherwise (several last steps, a tool's output).
        var rest = answer.StartsWith(streamed.ToString(), StringComparison.Ordinal) ? answer[streamed.Length..] : $"\n\n{answer}";
        await stream.WriteAsync(new ChatChunk(null, rest.Length > 0 ? rest : null, [], "stop", null));
        await stream.CompleteAsync(tokens, cost);
    }

    /// <summary>The one model step no other step depends on, whose answer is the run's output; null when there is none such.</summary>
    private static string? AnswerStep(JsonElement run)
    {
        var steps = run.GetProperty("steps").EnumerateArray().ToList();
        var needed = steps.SelectMany(s => s.GetProperty("dependsOn").EnumerateArray().Select(d => d.GetString())).ToHashSet();
        var last = steps.Where(s => !needed.Contains(s.GetProperty("id").GetString())).ToList();
        return last is [var only] && only.GetProperty("kind").GetString() == "model" ? only.GetProperty("id").GetString() : null;
    }

    private static string Text(JsonElement output) => output.ValueKind switch
    {
        JsonValueKind.String => output.GetString()!,
        JsonValueKind.Null => "",
        _ => output.GetRawText(),
    };

    private static (string Name, int? Version)? Parse(string model)
    {
        var name = model[Prefix.Length..];
        var at = name.LastIndexOf('@');
        if (at < 0)
        {
            return name.Length > 0 ? (name, null) : null;
        }

        return int.TryParse(name[(at + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) && version > 0 && at > 0
            ? (name[..at], version)
            : null;
    }

    /// <summary>The orchestrator's refusal in OpenAI's terms: an unknown agent is an unknown model, a missing scope a 403.</summary>
    private static OpenAiError Refusal(string model, HttpStatusCode status, string body) => status switch
    {
        HttpStatusCode.BadRequest when NamesField(body, "agent") => OpenAiError.ModelNotFound(model),
        HttpStatusCode.Forbidden => OpenAiError.Forbidden("Calling an agent starts a run: the API key needs the runs scope."),
        HttpStatusCode.BadRequest or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity =>
            OpenAiError.InvalidRequest($"The run was refused: {body}"),
        _ => OpenAiError.UpstreamFailed($"The orchestrator answered {(int)status} when asked to start the run."),
    };

    private static bool NamesField(string problem, string field)
    {
        try
        {
            using var json = JsonDocument.Parse(problem);
            return json.RootElement.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
