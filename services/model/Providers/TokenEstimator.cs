using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>About four characters a token, as OpenAI's own rule of thumb; the simulator has no tokenizer to consult.</summary>
public static class TokenEstimator
{
    private const int TokensPerMessage = 3;

    public static int Count(string? text) => string.IsNullOrEmpty(text) ? 0 : (text.Length + 3) / 4;

    public static int Prompt(ChatRequest request) =>
        request.Messages.Sum(m => TokensPerMessage + Count(m.Content) + m.ToolCalls.Sum(c => Count(c.Name) + Count(c.Arguments)))
        + request.Tools.Sum(t => Count(t.Name) + Count(t.Description) + Count(t.Parameters?.GetRawText()));
}
