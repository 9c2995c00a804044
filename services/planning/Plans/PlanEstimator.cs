using Platform.Planning.Planner;

namespace Platform.Planning.Plans;

/// <summary>
/// What a step will cost before it runs, from round numbers stated here (a plan's estimate, not a measurement): a
/// model step reads its instruction, a fixed framing and about a thousand tokens of each earlier output it uses, and
/// writes about 800 tokens at 50 tokens a second; its USD comes from the alias's catalog prices (the highest of its
/// deployments). A built-in tool takes 0.2 s, other tools 2 s, never more than their timeout; a human approval
/// 10 minutes. Tool and approval steps use no model tokens.
/// </summary>
public static class PlanEstimator
{
    private const int FramingTokens = 300;
    private const int TokensPerOutputUsed = 1000;
    private const int OutputTokens = 800;
    private const int ModelLatencyMs = 1500;
    private const int MsPerOutputToken = 20;
    private const int BuiltinToolMs = 200;
    private const int RemoteToolMs = 2000;
    private const int ApprovalMs = 10 * 60 * 1000;

    public static StepEstimates Estimate(PlanStep step, IReadOnlyDictionary<string, ToolInfo> tools, ModelPrices prices)
    {
        switch (step.Kind)
        {
            case "model":
                var outputsUsed = StepTemplates.Strings(step.Arguments).Select(s => s.Value).Append(step.Instruction)
                    .SelectMany(StepTemplates.References).OfType<string>().Distinct().Count();
                var input = FramingTokens + Tokens(step.Title) + Tokens(step.Instruction) + Tokens(step.Acceptance ?? "")
                    + Tokens(step.Arguments.ToJsonString()) + outputsUsed * TokensPerOutputUsed;
                var usd = (input * prices.InputPerMillion + OutputTokens * prices.OutputPerMillion) / 1_000_000m;
                return new StepEstimates(input + OutputTokens, Math.Round(usd, 6), ModelLatencyMs + OutputTokens * MsPerOutputToken);
            case "tool":
                var tool = step.Tool is null ? null : tools.GetValueOrDefault(step.Tool);
                var duration = tool?.Kind == "builtin" ? BuiltinToolMs : RemoteToolMs;
                return new StepEstimates(0, 0, tool is { TimeoutMs: > 0 } ? Math.Min(duration, tool.TimeoutMs) : duration);
            default:
                return new StepEstimates(0, 0, ApprovalMs);
        }
    }

    /// <summary>About four characters a token, as for English text in the common encodings.</summary>
    private static int Tokens(string text) => (text.Length + 3) / 4;
}
