using System.Text.Json;

namespace Platform.Tool.Registry;

/// <summary>RFC 6901 JSON Pointers: <c>/a/0/b</c>, with <c>~1</c> for '/' and <c>~0</c> for '~'.</summary>
public static class JsonPointer
{
    public static JsonElement? Resolve(JsonElement root, string pointer)
    {
        if (pointer == "")
        {
            return root;
        }

        if (!pointer.StartsWith('/'))
        {
            return null;
        }

        var current = root;
        foreach (var raw in pointer[1..].Split('/'))
        {
            var token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(token, out var child))
            {
                current = child;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(token, out var index) && index >= 0 && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }

        return current;
    }
}
