using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using Platform.Dashboard.Clients;

namespace Platform.Dashboard.Components.Agents;

/// <summary>The fields of an agent the dashboard edits; every other field of the definition is kept as it was.</summary>
public sealed class AgentFormModel
{
    [Required, RegularExpression("^[a-z0-9][a-z0-9._-]{0,63}$", ErrorMessage = "1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.")]
    public string? Name { get; set; }

    [Required]
    public string? Model { get; set; }

    public string Mode { get; set; } = "plan";

    [MaxLength(32_768)]
    public string? Instructions { get; set; }

    /// <summary>Tool names, separated by commas or spaces.</summary>
    public string? Tools { get; set; }

    [Range(1, 100)]
    public int? MaxSteps { get; set; }

    [Range(0.000001, 10_000)]
    public decimal? BudgetUsd { get; set; }

    public static AgentFormModel From(Agent agent) => new()
    {
        Name = agent.Name,
        Model = agent.Model,
        Mode = agent.Mode.ToLowerInvariant(),
        Instructions = agent.Instructions,
        Tools = string.Join(", ", agent.Tools),
        MaxSteps = agent.MaxSteps,
        BudgetUsd = agent.BudgetUsd,
    };

    /// <summary>Writes the form's fields over <paramref name="definition"/> (the agent as read, or a new one), ready to send.</summary>
    public JsonObject ApplyTo(JsonObject definition)
    {
        foreach (var readOnly in new[] { "version", "createdAt", "createdBy" })
        {
            definition.Remove(readOnly);
        }

        definition["name"] = Name;
        definition["model"] = Model;
        definition["mode"] = Mode;
        definition["instructions"] = Instructions ?? "";
        definition["tools"] = new JsonArray([.. (Tools ?? "").Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).Select(t => JsonValue.Create(t))]);
        definition["maxSteps"] = MaxSteps is { } steps ? JsonValue.Create(steps) : null;
        definition["budgetUsd"] = BudgetUsd is { } budget ? JsonValue.Create(budget) : null;
        return definition;
    }
}
