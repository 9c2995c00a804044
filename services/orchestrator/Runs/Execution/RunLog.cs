namespace Platform.Orchestrator.Runs.Execution;

/// <summary>What every part of a run's execution logs alike when a call it makes is asked again or elsewhere.</summary>
internal static partial class RunLog
{
    [LoggerMessage(LogLevel.Information, "Run {RunId}, {Step}: {Reason}; asking again")]
    public static partial void AskingAgain(this ILogger logger, Guid runId, string step, string reason);

    [LoggerMessage(LogLevel.Warning, "Run {RunId}, {Step}: the model could not answer ({Reason}); asking the fallback model {Fallback}")]
    public static partial void AskingFallback(this ILogger logger, Guid runId, string step, string fallback, string reason);
}
