using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Json;
using Platform.Tool.Builtins;
using Platform.Tool.Mcp;
using Platform.Tool.Registry;
using StackExchange.Redis;
using Platform.ServiceDefaults.Http;

namespace Platform.Tool.Invocations;

/// <summary>
/// Runs tools exactly once per idempotency key. The first caller claims the key in Postgres and executes; concurrent
/// callers with the same key wait for its recorded outcome; later callers get the record. A claim whose owner died is
/// taken over for read-only and idempotent tools, and reported as <c>unknown</c> for side-effecting ones, never run
/// blindly again. Approval policies park a call until a human decides.
/// </summary>
public sealed partial class InvocationEngine(
    ToolCatalog catalog, ToolStore tools, InvocationStore invocations, ArgumentValidator validator, HttpToolExecutor httpTools,
    McpConnections mcp, IConnectionMultiplexer redis, ILogger<InvocationEngine> logger)
{
    // Past the tool's own timeout the owner gets this long to record the outcome before its claim counts as abandoned.
    private static readonly TimeSpan LeaseGrace = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private const int MaxErrorLength = 4000;
    private const int MaxResultLength = 8 * 1024 * 1024;

    public async Task<InvocationOutcome> InvokeAsync(string tenantId, string keyId, string toolName, InvocationRequest request, CancellationToken cancellationToken)
    {
        var tool = await catalog.FindAsync(tenantId, toolName);
        if (tool is null)
        {
            return InvocationOutcome.NotFound();
        }

        if (request.IdempotencyKey is not { } idempotencyKey || !IdempotencyKeys.IsValid(idempotencyKey))
        {
            return InvocationOutcome.Invalid(
                [new SchemaViolation("", "idempotencyKey", $"An idempotencyKey of 1 to {IdempotencyKeys.MaxLength} printable ASCII characters without spaces is required.")],
                "idempotencyKey");
        }

        if (request.RunId is { Length: > 200 } || request.StepId is { Length: > 200 })
        {
            return InvocationOutcome.Invalid([new SchemaViolation("", "maxLength", "A runId and a stepId have at most 200 characters.")], request.RunId is { Length: > 200 } ? "runId" : "stepId");
        }

        var arguments = request.Arguments ?? JsonDocument.Parse("{}").RootElement;
        if (arguments.ValueKind != JsonValueKind.Object)
        {
            return InvocationOutcome.Invalid([new SchemaViolation("", "type", "The arguments are a JSON object.")], "arguments");
        }

        var check = await validator.ValidateAsync(tool.Parameters, arguments);
        if (check.SchemaProblem is { } schemaProblem)
        {
            return InvocationOutcome.Unusable($"The tool's argument schema cannot be used: {schemaProblem}. Register the tool again with a schema that compiles.");
        }

        if (check.Errors.Count > 0)
        {
            return InvocationOutcome.Invalid(check.Errors, "arguments");
        }

        var argumentsNode = JsonNode.Parse(arguments.GetRawText());
        var hash = CanonicalJson.Hash(argumentsNode);
        var existing = await invocations.FindByKeyAsync(tenantId, idempotencyKey);
        if (existing is null)
        {
            var policy = await tools.PolicyAsync(tenantId, tool.Name);
            if (policy.RateLimitPerMinute is { } limit && await OverRateLimitAsync(tenantId, tool.Name, limit) is { } retryAfter)
            {
                return InvocationOutcome.RateLimited(retryAfter);
            }

            var approval = policy.Approval is { } approvalPolicy && approvalPolicy.Requires(arguments)
                ? approvalPolicy.Expiry
                : (TimeSpan?)null;
            var claimed = await invocations.ClaimAsync(new NewInvocation(tenantId, keyId, tool.Name, idempotencyKey, hash, arguments.GetRawText(),
                Redact(argumentsNode)?.ToJsonString() ?? "null", request.RunId, request.StepId, tool.SideEffect, Activity.Current?.TraceId.ToString()), Lease(tool), approval);
            if (claimed is not null)
            {
                return claimed.Status == InvocationStatus.PendingApproval
                    ? InvocationOutcome.Done(claimed, replayed: false)
                    : InvocationOutcome.Done(await ExecuteAsync(tenantId, tool, arguments, claimed, cancellationToken), replayed: false);
            }

            existing = await invocations.FindByKeyAsync(tenantId, idempotencyKey)
                ?? throw new InvalidOperationException("An idempotency key was claimed and then vanished.");
        }

        if (existing.Tool != tool.Name || existing.ArgumentsHash != hash)
        {
            return InvocationOutcome.Conflict($"The idempotency key '{idempotencyKey}' was already used for a different call of '{existing.Tool}'.");
        }

        return await AwaitOutcomeAsync(tenantId, tool, arguments, existing, cancellationToken);
    }

    /// <summary>Runs an approved invocation; the decision itself already claimed it, so it runs once.</summary>
    public async Task<InvocationRow> RunApprovedAsync(string tenantId, InvocationRow invocation, CancellationToken cancellationToken)
    {
        var tool = await catalog.FindAsync(tenantId, invocation.Tool);
        if (tool is null)
        {
            return await invocations.FinishAsync(invocation.Id, InvocationStatus.Failed, null, "The tool was removed before the call was approved.", InvocationErrors.ToolFailed, 0);
        }

        using var arguments = JsonDocument.Parse(invocation.PendingArguments ?? "{}");
        return await ExecuteAsync(tenantId, tool, arguments.RootElement, invocation, cancellationToken);
    }

    public static TimeSpan Lease(ToolDefinition tool) => TimeSpan.FromMilliseconds(tool.TimeoutMs) + LeaseGrace;

    /// <summary>Someone else holds the key: wait for its outcome, take over a dead owner's claim, or report unknown.</summary>
    private async Task<InvocationOutcome> AwaitOutcomeAsync(string tenantId, ToolDefinition tool, JsonElement arguments, InvocationRow row, CancellationToken cancellationToken)
    {
        var waitUntil = DateTime.UtcNow + Lease(tool);
        while (true)
        {
            if (InvocationStatus.IsFinal(row.Status) || row.Status == InvocationStatus.PendingApproval)
            {
                return InvocationOutcome.Done(row, replayed: true);
            }

            if (row.LeaseUntil is { } leaseUntil && leaseUntil < DateTime.UtcNow)
            {
                if (tool.SideEffect == SideEffects.SideEffecting)
                {
                    row = await invocations.MarkUnknownAsync(row.Id) ?? row;
                    continue;
                }

                if (await invocations.TakeOverAsync(row.Id, Lease(tool)) is { } takenOver)
                {
                    logger.LogWarning("Invocation {Invocation} of {Tool} was abandoned by its owner; running it again", row.Id, tool.Name);
                    return InvocationOutcome.Done(await ExecuteAsync(tenantId, tool, arguments, takenOver, cancellationToken), replayed: false);
                }
            }

            if (DateTime.UtcNow > waitUntil)
            {
                return InvocationOutcome.Done(row, replayed: true);
            }

            await Task.Delay(PollInterval, cancellationToken);
            row = await invocations.FindAsync(tenantId, row.Id) ?? row;
        }
    }

    private async Task<InvocationRow> ExecuteAsync(string tenantId, ToolDefinition tool, JsonElement arguments, InvocationRow claimed, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // The caller leaving does not stop a call already under way: its outcome must be recorded either way.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(tool.TimeoutMs));
        string status;
        string? result = null;
        string? error = null;
        string? code = null;
        try
        {
            var output = catalog.Builtin(tool.Name) is { } builtin ? await builtin.ExecuteAsync(arguments, new ToolContext(tenantId), timeout.Token)
                : tool.Kind == "mcp" ? await mcp.CallAsync(tenantId, tool.Name, arguments, timeout.Token)
                : await httpTools.ExecuteAsync(tenantId, tool, arguments, timeout.Token);
            (status, result) = (InvocationStatus.Succeeded, StoredResult(output));
        }
        catch (ToolFailedException e)
        {
            (status, error, code) = (InvocationStatus.Failed, e.Message, e.Retryable ? InvocationErrors.ToolFailed : InvocationErrors.ArgumentsRejected);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // A side-effecting call cut off by its timeout may or may not have taken effect.
            (status, error, code) = tool.SideEffect == SideEffects.SideEffecting
                ? (InvocationStatus.Unknown, $"Timed out after {tool.TimeoutMs} ms; whether it took effect is unknown.", InvocationErrors.TimedOut)
                : (InvocationStatus.Failed, $"Timed out after {tool.TimeoutMs} ms.", InvocationErrors.TimedOut);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The claim is this call's: whatever the tool threw, its outcome is recorded rather than left running.
            logger.LogError(e, "Invocation {Invocation} of {Tool} failed unexpectedly", claimed.Id, tool.Name);
            (status, error, code) = tool.SideEffect == SideEffects.SideEffecting
                ? (InvocationStatus.Unknown, "The tool failed unexpectedly; whether it took effect is unknown. The failure is logged with this call's trace id.", InvocationErrors.Unexpected)
                : (InvocationStatus.Failed, "The tool failed unexpectedly; the failure is logged with this call's trace id.", InvocationErrors.Unexpected);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        ToolMetrics.Executed(tool.Kind, status, elapsed);
        return await invocations.FinishAsync(claimed.Id, status, result, error is null ? null : StorableJson.Text(error.Length > MaxErrorLength ? error[..MaxErrorLength] : error),
            code, (int)elapsed.TotalMilliseconds);
    }

    /// <summary>The result as recorded; one too large to keep is replaced by a note saying so, since the call itself succeeded.</summary>
    private static string StoredResult(JsonNode? output)
    {
        var json = StorableJson.Clean(output)?.ToJsonString() ?? "null";
        return json.Length <= MaxResultLength
            ? json
            : new JsonObject { ["notKept"] = $"The result was {json.Length / (1024 * 1024)} MiB of JSON, more than the {MaxResultLength / (1024 * 1024)} MiB kept." }.ToJsonString();
    }

    private async Task<TimeSpan?> OverRateLimitAsync(string tenantId, string tool, int limit)
    {
        var minute = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60;
        var key = (RedisKey)$"tool:rate:{tenantId}:{tool}:{minute}";
        var database = redis.GetDatabase();
        var count = await database.StringIncrementAsync(key);
        if (count == 1)
        {
            await database.KeyExpireAsync(key, TimeSpan.FromMinutes(2));
        }

        return count > limit ? TimeSpan.FromSeconds(60 - DateTimeOffset.UtcNow.Second) : null;
    }

    /// <summary>Audit records keep arguments without secrets: values of password-, token- or key-like names are masked.</summary>
    private static JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    obj[name] = SecretName().IsMatch(name) ? "***" : Redact(obj[name]?.DeepClone());
                }

                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    array[i] = Redact(array[i]?.DeepClone());
                }

                return array;
            default:
                return node;
        }
    }

    [GeneratedRegex("pass(word)?|secret|token|api[_-]?key|authorization|credential", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}

/// <summary>What became of an invocation request, for the API to answer.</summary>
public sealed record InvocationOutcome(string Kind, InvocationRow? Row, bool Replayed, IReadOnlyList<SchemaViolation>? Errors, string? ErrorField, string? Message, TimeSpan? RetryAfter)
{
    public static InvocationOutcome NotFound() => new("not_found", null, false, null, null, null, null);

    public static InvocationOutcome Invalid(IReadOnlyList<SchemaViolation> errors, string field) => new("invalid", null, false, errors, field, null, null);

    public static InvocationOutcome Conflict(string message) => new("conflict", null, false, null, null, message, null);

    public static InvocationOutcome Unusable(string message) => new("unusable", null, false, null, "parameters", message, null);

    public static InvocationOutcome RateLimited(TimeSpan retryAfter) => new("rate_limited", null, false, null, null, null, retryAfter);

    public static InvocationOutcome Done(InvocationRow row, bool replayed) => new("done", row, replayed, null, null, null, null);
}
