using System.Text.Json.Nodes;

namespace Platform.Planning.Planner;

/// <summary>
/// The <c>json_schema</c> response format the LLM planner asks for, in the subset OpenAI's strict mode accepts (every
/// property required, no additional properties, no length keywords: the planning service checks those). A step's
/// <c>arguments</c> is a string holding a JSON object, as function-call arguments are, because strict mode has no
/// free-form objects.
/// </summary>
public static class PlanSchema
{
    public const string Name = "platform_plan";

    public static JsonObject Create() => new()
    {
        ["type"] = "object",
        ["additionalProperties"] = false,
        ["required"] = new JsonArray("steps"),
        ["properties"] = new JsonObject
        {
            ["steps"] = new JsonObject
            {
                ["type"] = "array",
                ["description"] = "The plan's steps; steps that do not depend on each other run in parallel.",
                ["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["additionalProperties"] = false,
                    ["required"] = new JsonArray("id", "title", "instruction", "kind", "tool", "arguments", "dependsOn", "acceptance"),
                    ["properties"] = new JsonObject
                    {
                        ["id"] = Text("Unique within the plan: 1 to 64 letters, digits, '-' or '_'."),
                        ["title"] = Text("A short title, at most 200 characters."),
                        ["instruction"] = Text("What the step does, at most 4000 characters."),
                        ["kind"] = new JsonObject
                        {
                            ["type"] = "string",
                            ["enum"] = new JsonArray("model", "tool", "approval"),
                            ["description"] = "tool: calls one offered tool; model: a language-model step; approval: a human approves before dependents run.",
                        },
                        ["tool"] = new JsonObject
                        {
                            ["type"] = new JsonArray("string", "null"),
                            ["description"] = "The offered tool a tool step calls; null for other kinds.",
                        },
                        ["arguments"] = Text("A JSON object, written as a string: the tool's arguments, valid for its parameters schema ('{}' when none). A value may be {{steps.<id>.output}} or {{steps.<id>.output.<field>}}, the output of a step this one depends on."),
                        ["dependsOn"] = new JsonObject
                        {
                            ["type"] = "array",
                            ["items"] = new JsonObject { ["type"] = "string" },
                            ["description"] = "Ids of the steps that must finish first.",
                        },
                        ["acceptance"] = Text("What the step's output must satisfy, at most 1000 characters."),
                    },
                },
            },
        },
    };

    private static JsonObject Text(string description) => new() { ["type"] = "string", ["description"] = description };
}
