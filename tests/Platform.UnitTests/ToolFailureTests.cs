using System.Text.Json;
using Platform.Tool.Builtins;
using Platform.Tool.Invocations;

namespace Platform.UnitTests;

public sealed class ToolFailureTests
{
    [Theory]
    [InlineData("add 100 to the result")]
    [InlineData("7 / 0")]
    [InlineData("2 +")]
    public async Task TheCalculatorRefusesAnExpressionItCannotEvaluateAsNotRetryable(string expression)
    {
        var failure = await Assert.ThrowsAsync<ToolFailedException>(() => Run(new CalculatorTool(), new { expression }));

        Assert.False(failure.Retryable);
    }

    [Fact]
    public async Task TheTextToolsRefuseArgumentsTheyCannotUseAsNotRetryable()
    {
        var pattern = await Assert.ThrowsAsync<ToolFailedException>(() => Run(new RegexExtractTool(), new { text = "a", pattern = "(" }));
        var template = await Assert.ThrowsAsync<ToolFailedException>(() => Run(new TemplateRenderTool(), new { template = "{{missing}}", values = new { } }));
        var zone = await Assert.ThrowsAsync<ToolFailedException>(() => Run(new CurrentTimeTool(TimeProvider.System), new { timeZone = "Mars/Olympus" }));

        Assert.All([pattern, template, zone], failure => Assert.False(failure.Retryable));
    }

    [Fact]
    public void AToolFailureIsRetryableUnlessTheToolSaysOtherwise() => Assert.True(new ToolFailedException("The endpoint answered 503").Retryable);

    [Theory]
    [InlineData(InvocationErrors.InvalidArguments, false)]
    [InlineData(InvocationErrors.ArgumentsRejected, false)]
    [InlineData(InvocationErrors.ToolUnusable, false)]
    [InlineData(InvocationErrors.ToolFailed, true)]
    [InlineData(InvocationErrors.TimedOut, true)]
    [InlineData(InvocationErrors.Unexpected, true)]
    [InlineData(InvocationErrors.RateLimited, true)]
    [InlineData(null, true)]
    [InlineData(InvocationErrors.IdempotencyKeyReused, null)]
    [InlineData(InvocationErrors.InvalidRequest, null)]
    public void AnErrorCodeSaysWhetherTheSameArgumentsMaySucceedLater(string? code, bool? retryable) =>
        Assert.Equal(retryable, InvocationErrors.Retryable(code));

    private static Task Run(IBuiltinTool tool, object arguments) =>
        tool.ExecuteAsync(JsonSerializer.SerializeToElement(arguments), new ToolContext("tenant"), CancellationToken.None);
}
