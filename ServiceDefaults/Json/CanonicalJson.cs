using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.ServiceDefaults.Json;

/// <summary>JSON written one way only (object keys sorted, no spaces), so equal documents hash equally.</summary>
public static class CanonicalJson
{
    public static string Write(JsonNode? node, IReadOnlySet<string>? skipTopLevel = null)
    {
        var into = new StringBuilder();
        Write(node, into, skipTopLevel);
        return into.ToString();
    }

    public static string Hash(JsonNode? node, IReadOnlySet<string>? skipTopLevel = null) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Write(node, skipTopLevel))));

    private static void Write(JsonNode? node, StringBuilder into, IReadOnlySet<string>? skip)
    {
        switch (node)
        {
            case JsonObject obj:
                into.Append('{');
                var first = true;
                foreach (var (name, value) in obj.Where(p => skip is null || !skip.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    into.Append(first ? "" : ",").Append(JsonSerializer.Serialize(name)).Append(':');
                    Write(value, into, null);
                    first = false;
                }

                into.Append('}');
                break;
            case JsonArray array:
                into.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    into.Append(i == 0 ? "" : ",");
                    Write(array[i], into, null);
                }

                into.Append(']');
                break;
            default:
                into.Append(node?.ToJsonString() ?? "null");
                break;
        }
    }
}
