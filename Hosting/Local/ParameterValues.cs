using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Local;

/// <summary>
/// Resolves parameters as Aspire does locally: <c>Parameters:{name}</c> wins; a generated parameter is created once and
/// kept (mode 0600) so data protected by it, such as a Postgres data folder, stays usable across runs.
/// </summary>
internal sealed class ParameterValues
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    // Characters that survive Npgsql and URL connection strings unquoted.
    private const string Specials = "-_.~+*!";

    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public ParameterValues(IEnumerable<ParameterResource> parameters, IConfiguration configuration, StateDirectory state)
    {
        var stored = state.ReadJson(state.ParametersFile) ?? new JsonObject();
        var changed = false;
        foreach (var parameter in parameters)
        {
            var configured = configuration[$"Parameters:{parameter.Name}"];
            if (!string.IsNullOrEmpty(configured))
            {
                _values[parameter.Name] = configured;
            }
            else if (stored[parameter.Name]?.GetValue<string>() is { Length: > 0 } kept)
            {
                _values[parameter.Name] = kept;
            }
            else if (parameter.Generate is { } generate)
            {
                _values[parameter.Name] = Generate(generate);
                stored[parameter.Name] = _values[parameter.Name];
                changed = true;
            }
            else
            {
                throw new DistributedApplicationException(
                    $"Parameter '{parameter.Name}' has no value: set Parameters:{parameter.Name} in configuration or as Parameters__{parameter.Name}.");
            }
        }

        if (changed)
        {
            StateDirectory.WriteSecretJson(state.ParametersFile, stored);
        }
    }

    public string this[ParameterResource parameter] => _values[parameter.Name];

    public IReadOnlyDictionary<string, string> All => _values;

    public static string Generate(GenerateParameterDefault generate)
    {
        var alphabet = generate.Special ? Letters + Specials : Letters;
        return RandomNumberGenerator.GetString(alphabet, generate.MinLength);
    }
}
