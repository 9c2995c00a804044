using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Platform.Orchestrator.Agents;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Orchestrator.Apis;

public static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        // Runs read the agents they execute, so a key for runs may read agents too, but not change them.
        var reads = app.MapGroup("/v1/agents").WithTags("Agents").RequireAnyScope(Scopes.Agents, Scopes.Runs);
        var writes = app.MapGroup("/v1/agents").WithTags("Agents").RequireScope(Scopes.Agents);

        writes.MapPost("/", CreateAgent);
        reads.MapGet("/", ListAgents);
        reads.MapGet("/{name}", GetAgent);
        reads.MapGet("/{name}/versions", ListVersions);
        writes.MapPut("/{name}", UpdateAgent);
        writes.MapDelete("/{name}", DeleteAgent);

        return app;
    }

    public static async Task<Results<Created<AgentDto>, ValidationProblem, ProblemHttpResult>> CreateAgent(
        AgentRequest request, HttpContext context, AgentStore agents)
    {
        var (definition, errors) = await AgentValidation.ValidateAsync(request);
        if (!AgentValidation.IsValidName(request.Name))
        {
            errors["name"] = ["1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."];
        }

        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        if (await agents.CreateAsync(context.User.TenantId(), request.Name!, definition!, context.User.KeyId()) is not { } agent)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Agent exists",
                detail: $"An agent '{request.Name}' exists: PUT /v1/agents/{request.Name} writes its next version.",
                extensions: new Dictionary<string, object?> { ["field"] = "name" });
        }

        return TypedResults.Created($"/v1/agents/{agent.Name}", Tagged(agent, context));
    }

    public static async Task<Results<Ok<AgentPage>, ValidationProblem>> ListAgents(HttpContext context, AgentStore agents, int? limit, string? after)
    {
        if (!Paging.TryTake(limit, out var take, out var problem))
        {
            return problem;
        }

        var page = await agents.ListAsync(context.User.TenantId(), after, take + 1);
        return TypedResults.Ok(new AgentPage(
            page.Take(take).Select(a => a.AsDto()).ToList(),
            page.Count > take ? page[take - 1].Name : null));
    }

    /// <summary>The latest version, or version <c>version</c>, which still resolves after the agent is deleted.</summary>
    public static async Task<Results<Ok<AgentDto>, NotFound, ValidationProblem>> GetAgent(string name, int? version, HttpContext context, AgentStore agents)
    {
        if (version < 1)
        {
            return ValidationProblems.For("version", "Versions are numbered from 1.");
        }

        var agent = await agents.FindAsync(context.User.TenantId(), name, version, context.RequestAborted);
        return agent is null ? TypedResults.NotFound() : TypedResults.Ok(Tagged(agent, context));
    }

    public static async Task<Results<Ok<AgentVersionPage>, NotFound, ValidationProblem>> ListVersions(
        string name, int? limit, int? after, HttpContext context, AgentStore agents)
    {
        if (!Paging.TryTake(limit, out var take, out var problem))
        {
            return problem;
        }

        var tenantId = context.User.TenantId();
        if (await agents.FindAsync(tenantId, name, null, context.RequestAborted) is null)
        {
            return TypedResults.NotFound();
        }

        var page = await agents.ListVersionsAsync(tenantId, name, Math.Max(after ?? 0, 0), take + 1);
        return TypedResults.Ok(new AgentVersionPage(
            page.Take(take).Select(a => a.AsDto()).ToList(),
            page.Count > take ? page[take - 1].Version : null));
    }

    /// <summary>Writes the agent's next version; with <c>If-Match: "N"</c>, only while N is its latest.</summary>
    public static async Task<Results<Ok<AgentDto>, ValidationProblem, NotFound, ProblemHttpResult>> UpdateAgent(
        string name, AgentRequest request, [FromHeader(Name = "If-Match")] string? ifMatch, HttpContext context, AgentStore agents)
    {
        var (definition, errors) = await AgentValidation.ValidateAsync(request);
        if (request.Name is not null && request.Name != name)
        {
            errors["name"] = ["The name is the path's: leave it out of the body, or repeat it."];
        }

        if (!TryParseIfMatch(ifMatch, out var expected))
        {
            errors["If-Match"] = ["Entity tags as the ETag header gives them (\"3\"), or *."];
        }

        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        return await agents.UpdateAsync(context.User.TenantId(), name, definition!, context.User.KeyId(), expected) switch
        {
            AgentUpdate.Written written => TypedResults.Ok(Tagged(written.Agent, context)),
            AgentUpdate.Stale stale => TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "Version changed",
                detail: $"The agent's latest version is {stale.LatestVersion}, which If-Match does not name: read it again before writing.",
                extensions: new Dictionary<string, object?> { ["field"] = "If-Match" }),
            _ => TypedResults.NotFound(),
        };
    }

    /// <summary>The agent is gone from reads and lists; its versions still resolve by number for the runs that used them.</summary>
    public static async Task<Results<NoContent, NotFound>> DeleteAgent(string name, HttpContext context, AgentStore agents) =>
        await agents.DeleteAsync(context.User.TenantId(), name) ? TypedResults.NoContent() : TypedResults.NotFound();

    /// <summary>A single agent, its version given as the response's ETag for a later If-Match.</summary>
    private static AgentDto Tagged(AgentVersion agent, HttpContext context)
    {
        context.Response.Headers.ETag = $"\"{agent.Version.ToString(CultureInfo.InvariantCulture)}\"";
        return agent.AsDto();
    }

    /// <summary>Null versions for <c>*</c> or no header (no condition); otherwise the versions the strong tags name.</summary>
    private static bool TryParseIfMatch(string? header, out IReadOnlyCollection<int>? versions)
    {
        versions = null;
        if (header is null)
        {
            return true;
        }

        if (!EntityTagHeaderValue.TryParseStrictList([header], out var tags) || tags.Count == 0)
        {
            return false;
        }

        if (!tags.Any(t => t.Tag == "*"))
        {
            versions = tags.Where(t => !t.IsWeak)
                .Select(t => int.TryParse(t.Tag.AsSpan().Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0)
                .ToList();
        }

        return true;
    }
}

/// <summary>A page of agents by name; <c>next</c> is the <c>after</c> of the next page, null on the last.</summary>
public sealed record AgentPage(IReadOnlyList<AgentDto> Items, string? Next);

public sealed record AgentVersionPage(IReadOnlyList<AgentDto> Items, int? Next);

public sealed record AgentDto(
    string Name,
    int Version,
    DateTime CreatedAt,
    string CreatedBy,
    string Instructions,
    string Model,
    string? FallbackModel,
    string? AcceptanceModel,
    IReadOnlyList<string> Tools,
    AgentMode Mode,
    int MaxSteps,
    int MaxToolCalls,
    int MaxReplans,
    decimal? BudgetUsd,
    AgentTimeouts Timeouts,
    AgentRetries Retries,
    AgentApprovals Approvals,
    IReadOnlyDictionary<string, AgentCompensation> Compensations,
    JsonElement? OutputSchema,
    string? WebhookUrl,
    JsonElement Metadata);

internal static class AgentMappings
{
    public static AgentDto AsDto(this AgentVersion agent)
    {
        var d = agent.Definition;
        return new(agent.Name, agent.Version, agent.CreatedAt, agent.CreatedBy, d.Instructions, d.Model, d.FallbackModel, d.AcceptanceModel, d.Tools, d.Mode,
            d.MaxSteps, d.MaxToolCalls, d.MaxReplans, d.BudgetUsd, d.Timeouts, d.Retries, d.Approvals, d.Compensations, d.OutputSchema, d.WebhookUrl,
            d.Metadata);
    }
}
