using Platform.Model.Catalog;
using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>Serves chat requests for one kind of upstream (the simulator, an OpenAI-compatible API…).</summary>
public interface IChatProvider
{
    string Name { get; }

    Task<ChatCompletion> CompleteAsync(ChatRequest request, ModelDeployment deployment, CancellationToken cancellationToken);

    IAsyncEnumerable<ChatChunk> StreamAsync(ChatRequest request, ModelDeployment deployment, CancellationToken cancellationToken);
}

/// <summary>One streamed piece of an answer; the gateway adds id, model and timestamps when it writes it.</summary>
public sealed record ChatChunk(string? Role, string? Content, IReadOnlyList<ToolCallDelta> ToolCalls, string? FinishReason, Usage? Usage);

public sealed record ToolCallDelta(int Index, string? Id, string? Name, string Arguments);
