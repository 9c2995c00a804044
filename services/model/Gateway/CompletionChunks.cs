using System.Text.RegularExpressions;
using Platform.Model.Providers;

namespace Platform.Model.Gateway;

/// <summary>Turns a whole completion into the chunks a stream of it would carry, and streamed chunks back into one.</summary>
public static partial class CompletionChunks
{
    public static IEnumerable<ChatChunk> From(ChatCompletion completion)
    {
        yield return new ChatChunk("assistant", completion.Message.ToolCalls.Count == 0 ? "" : null, [], null, null);
        foreach (var token in Tokens(completion.Message.Content))
        {
            yield return new ChatChunk(null, token, [], null, null);
        }

        for (var i = 0; i < completion.Message.ToolCalls.Count; i++)
        {
            var call = completion.Message.ToolCalls[i];
            yield return new ChatChunk(null, null, [new ToolCallDelta(i, call.Id, call.Name, "")], null, null);
            foreach (var piece in Tokens(call.Arguments))
            {
                yield return new ChatChunk(null, null, [new ToolCallDelta(i, null, null, piece)], null, null);
            }
        }

        yield return new ChatChunk(null, null, [], completion.FinishReason, completion.Usage);
    }

    /// <summary>Collects a stream's chunks so the whole answer can be cached and accounted.</summary>
    public sealed class Assembler
    {
        private readonly System.Text.StringBuilder _content = new();
        private readonly SortedDictionary<int, (string? Id, string? Name, System.Text.StringBuilder Arguments)> _calls = [];

        public string? FinishReason { get; private set; }

        public Usage? Usage { get; private set; }

        public bool HasContent { get; private set; }

        public void Add(ChatChunk chunk)
        {
            if (chunk.Content is not null)
            {
                _content.Append(chunk.Content);
                HasContent = true;
            }

            foreach (var call in chunk.ToolCalls)
            {
                var entry = _calls.TryGetValue(call.Index, out var existing) ? existing : (call.Id, call.Name, new System.Text.StringBuilder());
                _calls[call.Index] = (entry.Id ?? call.Id, entry.Name ?? call.Name, entry.Item3.Append(call.Arguments));
            }

            FinishReason = chunk.FinishReason ?? FinishReason;
            Usage = chunk.Usage ?? Usage;
        }

        public string Text => _content.ToString();

        public ChatCompletion ToCompletion(string id, long created, string model, Usage usage) => new(
            id, created, model,
            new ChatMessage("assistant", _calls.Count > 0 && !HasContent ? null : _content.ToString(),
                _calls.Values.Select(c => new ToolCall(c.Id ?? "", c.Name ?? "", c.Arguments.ToString())).ToList(), null, null),
            FinishReason ?? "stop",
            usage);
    }

    private static IEnumerable<string> Tokens(string? text) =>
        string.IsNullOrEmpty(text) ? [] : TokenPattern().Matches(text).Select(m => m.Value);

    [GeneratedRegex(@"\s*\S{1,4}|\s+")]
    private static partial Regex TokenPattern();
}
