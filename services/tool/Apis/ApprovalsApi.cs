using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Data;
using Platform.Tool.Invocations;
using StackExchange.Redis;
using Platform.ServiceDefaults.Http;

namespace Platform.Tool.Apis;

/// <summary>
/// Human decisions on parked tool calls: list what waits, approve (the call runs once) or deny, with a reason. Deciding
/// takes the approve (or admin) scope, and never the key that made the call.
/// </summary>
public static class ApprovalsApi
{
    private const int MaxReasonLength = 2000;
    private static readonly string[] Statuses = ["pending", "approved", "denied", "expired"];

    public static IEndpointRouteBuilder MapApprovalsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/approvals").WithTags("Approvals").RequireAnyScope(Scopes.Tools, Scopes.Approve);

        api.MapGet("/", ListApprovals);
        api.MapGet("/{id:guid}", GetApproval);
        api.MapPost("/{id:guid}/approve", Approve).RequireScope(Scopes.Approve);
        api.MapPost("/{id:guid}/deny", Deny).RequireScope(Scopes.Approve);

        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<ApprovalRow>>, ValidationProblem>> ListApprovals(HttpContext context, InvocationStore invocations, string? status, int? limit)
    {
        if (!Statuses.Contains(status ?? "pending"))
        {
            return ValidationProblems.For("status", $"One of {string.Join(", ", Statuses)}.");
        }

        // A fuller first page than elsewhere: the dashboard counts pending approvals from it.
        if (!Paging.TryTake(limit, out var take, out var problem, defaultLimit: 100))
        {
            return problem;
        }

        return TypedResults.Ok(await invocations.ListApprovalsAsync(context.User.TenantId(), status ?? "pending", take));
    }

    public static async Task<Results<Ok<ApprovalRow>, NotFound>> GetApproval(Guid id, HttpContext context, InvocationStore invocations) =>
        await invocations.FindApprovalAsync(context.User.TenantId(), id) is { } approval ? TypedResults.Ok(approval) : TypedResults.NotFound();

    public static Task<IResult> Approve(Guid id, Decision? decision, HttpContext context, InvocationStore invocations, InvocationEngine engine, IConnectionMultiplexer redis) =>
        DecideAsync(id, approve: true, decision?.Reason, context, invocations, engine, redis);

    public static Task<IResult> Deny(Guid id, Decision? decision, HttpContext context, InvocationStore invocations, InvocationEngine engine, IConnectionMultiplexer redis) =>
        DecideAsync(id, approve: false, decision?.Reason, context, invocations, engine, redis);

    private static async Task<IResult> DecideAsync(
        Guid id, bool approve, string? reason, HttpContext context, InvocationStore invocations, InvocationEngine engine, IConnectionMultiplexer redis)
    {
        if (reason is { Length: > MaxReasonLength })
        {
            return ValidationProblems.For("reason", $"At most {MaxReasonLength} characters.");
        }

        var tenantId = context.User.TenantId();
        var existing = await invocations.FindApprovalAsync(tenantId, id);
        if (existing is null)
        {
            return TypedResults.NotFound();
        }

        var invocation = await invocations.FindAsync(tenantId, existing.InvocationId);
        if (invocation?.KeyId == context.User.KeyId())
        {
            return TypedResults.Problem("The key that made this call cannot decide its approval; another person's key with the approve (or admin) scope must.",
                statusCode: StatusCodes.Status403Forbidden, title: "Self-approval");
        }

        var lease = invocation is null ? TimeSpan.FromMinutes(1) : TimeSpan.FromMinutes(10);
        var (approval, claimed) = await invocations.DecideAsync(tenantId, id, approve, context.User.KeyId(), reason, lease);
        if (approval is null || claimed is null)
        {
            var current = await invocations.FindApprovalAsync(tenantId, id);
            return TypedResults.Problem($"This approval is {(current!.Status == "pending" ? "expired" : current.Status)} and can no longer be decided.",
                statusCode: StatusCodes.Status409Conflict, title: "Already decided");
        }

        var outcome = approve ? await engine.RunApprovedAsync(tenantId, claimed, CancellationToken.None) : claimed;
        if (outcome.RunId is { } runId)
        {
            await WakeRunAsync(redis, runId);
        }

        return TypedResults.Ok(new { approval = approval with { Status = approve ? "approved" : "denied" }, invocation = outcome.AsDto(replayed: false) });
    }

    /// <summary>The run waiting for this call carries on at once; without the message it asks again at its next recheck.</summary>
    private static async Task WakeRunAsync(IConnectionMultiplexer redis, string runId)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(PlatformChannels.RunApprovalDecided, runId);
        }
        catch (RedisException)
        {
            // The orchestrator's recheck finds the decision.
        }
    }
}

public sealed record Decision(string? Reason);
