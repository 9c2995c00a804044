using StackExchange.Redis;

namespace Platform.ServiceDefaults.Data;

/// <summary>Redis channels one service publishes and another listens to: the contract between them, in one place.</summary>
public static class PlatformChannels
{
    /// <summary>A tool call made for a run was approved or denied; the message is the run's id. The orchestrator wakes the run.</summary>
    public static readonly RedisChannel RunApprovalDecided = RedisChannel.Literal("platform:runs:approval-decided");
}
