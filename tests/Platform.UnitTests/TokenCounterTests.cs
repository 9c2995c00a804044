using Microsoft.ML.Tokenizers;
using Platform.Model.Providers;

namespace Platform.UnitTests;

/// <summary>Which encoding a deployment's model counts in, checked against tiktoken's own table of OpenAI's models.</summary>
public sealed class TokenCounterTests
{
    // Far from four characters a token, and counted differently by o200k_base (22) and cl100k_base (29).
    private const string Sample = "Tokenisation isn't uniform: naïve café, Zürich → 東京, ½ km, and 🙂🙂🙂!";

    [Theory]
    [InlineData("gpt-4o")]
    [InlineData("gpt-4o-mini")]
    [InlineData("chatgpt-4o-latest")]
    [InlineData("gpt-4.1-mini")]
    [InlineData("gpt-5")]
    [InlineData("o1")]
    [InlineData("o3-mini")]
    [InlineData("o4-mini")]
    [InlineData("ft:gpt-4o-mini:acme::abc123")]
    [InlineData("gpt-4")]
    [InlineData("gpt-4-turbo")]
    [InlineData("gpt-4-0613")]
    [InlineData("gpt-3.5-turbo")]
    [InlineData("gpt-35-turbo")]
    [InlineData("text-embedding-3-small")]
    [InlineData("text-embedding-ada-002")]
    public void OpenAiModelsCountAsTiktokenMapsThem(string model) =>
        Assert.Equal(TiktokenTokenizer.CreateForModel(model).CountTokens(Sample), TokenCounter.For("openai", model).Count(Sample));

    [Theory]
    [InlineData("simulator", "platform-simulator-1")]
    [InlineData("openai", "llama-3.1-70b-instruct")]
    public void OtherModelsCountInO200k(string provider, string model)
    {
        Assert.Same(TokenCounter.O200k, TokenCounter.For(provider, model));
        Assert.Equal(TiktokenTokenizer.CreateForEncoding("o200k_base").CountTokens(Sample), TokenCounter.For(provider, model).Count(Sample));
    }

    [Theory]
    [InlineData("anthropic", "claude-sonnet-4-5")]
    [InlineData("anthropic", "any-model")]
    [InlineData("openai", "claude-3-5-haiku")]
    public void ClaudeIsEstimatedAtFourCharactersAToken(string provider, string model)
    {
        Assert.Same(TokenCounter.Estimate, TokenCounter.For(provider, model));
        Assert.Equal((Sample.Length + 3) / 4, TokenCounter.For(provider, model).Count(Sample));
    }

    [Fact]
    public void TruncatingKeepsAtMostThatManyTokens()
    {
        var cut = TokenCounter.O200k.Truncate(Sample, 7);

        Assert.StartsWith(cut, Sample, StringComparison.Ordinal);
        Assert.Equal(7, TokenCounter.O200k.Count(cut));
        Assert.True(TokenCounter.O200k.Count(Sample[..(cut.Length + 1)]) > 7);
    }
}
