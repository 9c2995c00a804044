using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Sweep;

/// <summary>
/// A valid JSON body and, for every value in it (nested ones too), the same body with that one value made hostile. The
/// schema says each value's type; where it has none (a free-form JSON value, an endpoint without a declared body) the
/// value's own type stands in, and a wrong type there is not necessarily a mistake.
/// </summary>
public sealed class BodyVariants(JsonObject document, JsonNode body, JsonNode? schema)
{
    private const string Placeholder = "__sweep_placeholder__";
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A hostile body: its case name, its text (built when sent, since some are megabytes) and whether it must be refused.</summary>
    public sealed record Variant(string Name, Func<string> Text, bool MustBeRefused);

    private sealed record Slot(ImmutableList<object> Path, JsonNode? Value, SchemaKind Kind, string? Format, bool Typed)
    {
        public string Name => string.Concat(Path.Select((s, i) => s is int n ? $"[{n}]" : i == 0 ? (string)s : $".{s}"));
    }

    /// <summary>The valid body; read it once per request, since <c>{unique}</c> becomes a new value each time.</summary>
    public string Text => Unique(Render(body));

    public IEnumerable<Variant> All()
    {
        var declared = schema is not null;
        foreach (var slot in Slots(body, schema, declared, []))
        {
            foreach (var (name, json) in HostileValues.WrongTypes(slot.Kind))
            {
                yield return Replace(slot, name, () => json, slot.Typed);
            }

            if (slot.Kind == SchemaKind.String)
            {
                foreach (var value in HostileValues.Strings)
                {
                    yield return Replace(slot, value.Name, () => value.Json, value.MustBeRefused && declared);
                }

                yield return Replace(slot, "1 MB string", () => HostileValues.Quote(new string('a', HostileValues.OneMegabyte)), false);
                foreach (var (name, json, refused) in Formatted(slot.Format))
                {
                    yield return Replace(slot, name, () => json, refused && slot.Typed);
                }
            }

            if (slot.Kind is SchemaKind.Integer or SchemaKind.Number)
            {
                foreach (var (name, json, overflows, notANumber) in HostileValues.Numbers)
                {
                    yield return Replace(slot, name, () => json, slot.Typed && (slot.Kind == SchemaKind.Integer ? overflows : notANumber));
                }
            }

            if (slot.Path.Count == 1)
            {
                yield return Replace(slot, "10,000 nested arrays", () => HostileValues.NestedArrays, declared);
            }

            if (slot.Path[^1] is string key)
            {
                var duplicate = slot.Kind == SchemaKind.String ? "42" : "\"sweep\"";
                yield return Replace(slot, "duplicate key", () => $"{Json(slot.Value)},{HostileValues.Quote(key)}:{duplicate}", false);
            }
        }
    }

    public bool HasString => Slots(body, schema, false, []).Any(s => s.Kind == SchemaKind.String && s.Value is JsonValue);

    /// <summary>The body split around the inside of its first string value (or of an added one), to put raw bytes there.</summary>
    public (string Prefix, string Suffix) AroundFirstString()
    {
        var first = Slots(body, schema, false, []).FirstOrDefault(s => s.Kind == SchemaKind.String && s.Value is JsonValue);
        var text = Unique(first is null ? Render(WithProperty("sweep")) : Render(Set(first.Path, Placeholder)));
        var at = text.IndexOf($"\"{Placeholder}\"", StringComparison.Ordinal);
        return (text[..at] + "\"", "\"" + text[(at + Placeholder.Length + 2)..]);
    }

    /// <summary>Every property of every object written twice, as raw text: JSON parsers differ on which one wins.</summary>
    public string EveryKeyTwice()
    {
        var text = new StringBuilder();
        WriteTwice(body, text);
        return Unique(text.ToString());
    }

    public string WithUnknownProperty() => Render(WithProperty("<script>alert(1)</script>"));

    private JsonNode WithProperty(string name)
    {
        var copy = body.DeepClone();
        if (copy is JsonObject obj)
        {
            obj[name] = Placeholder;
        }

        return copy;
    }

    private Variant Replace(Slot slot, string name, Func<string> json, bool mustBeRefused)
    {
        var marked = Render(Set(slot.Path, Placeholder));
        return new Variant($"{slot.Name}: {name}", () => Unique(marked.Replace($"\"{Placeholder}\"", json(), StringComparison.Ordinal)), mustBeRefused);
    }

    private JsonNode Set(ImmutableList<object> path, string value)
    {
        var copy = body.DeepClone();
        var parent = path.Take(path.Count - 1).Aggregate(copy, (node, segment) => segment is int i ? node[i]! : node[(string)segment]!);
        if (path[^1] is int index)
        {
            parent[index] = value;
        }
        else
        {
            parent[(string)path[^1]] = value;
        }

        return copy;
    }

    private IEnumerable<Slot> Slots(JsonNode? node, JsonNode? nodeSchema, bool typed, ImmutableList<object> path)
    {
        IEnumerable<(object Segment, JsonNode? Value, JsonNode? Schema)> children = node switch
        {
            JsonObject obj => obj.Select(p => ((object)p.Key, p.Value, nodeSchema is null ? null : Schemas.Property(document, nodeSchema, p.Key))),
            JsonArray array => array.Select((v, i) => ((object)i, v, nodeSchema is null ? null : Schemas.Items(document, nodeSchema))),
            _ => [],
        };
        foreach (var (segment, value, childSchema) in children.ToList())
        {
            var kind = childSchema is null ? Infer(value) : Schemas.Kind(document, childSchema);
            var childTyped = typed && childSchema is not null && kind != SchemaKind.Any;
            var slot = new Slot(path.Add(segment), value, kind, childSchema is null ? null : Schemas.Format(document, childSchema), childTyped);
            yield return slot;
            foreach (var inner in Slots(value, kind == SchemaKind.Any ? null : childSchema, childTyped, slot.Path))
            {
                yield return inner;
            }
        }
    }

    private static IEnumerable<(string Name, string Json, bool MustBeRefused)> Formatted(string? format) => format switch
    {
        "date-time" or "date" => [("not a date", "\"sweep\"", true), ("year 10000", "\"10000-01-01T00:00:00Z\"", true)],
        "duration" =>
        [
            ("the longest TimeSpan", "\"10675199.02:48:05.4775807\"", false),
            ("the shortest TimeSpan", "\"-10675199.02:48:05.4775808\"", false),
            ("a negative duration", "\"-00:00:01\"", false),
            ("zero duration", "\"00:00:00\"", false),
            ("a duration past TimeSpan", "\"99999999.00:00:00\"", true),
        ],
        _ => [],
    };

    private static SchemaKind Infer(JsonNode? value) => value switch
    {
        JsonObject => SchemaKind.Object,
        JsonArray => SchemaKind.Array,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => SchemaKind.String,
            JsonValueKind.Number => SchemaKind.Number,
            JsonValueKind.True or JsonValueKind.False => SchemaKind.Boolean,
            _ => SchemaKind.Any,
        },
        _ => SchemaKind.Any,
    };

    private static void WriteTwice(JsonNode? node, StringBuilder text)
    {
        switch (node)
        {
            case JsonObject obj:
                text.Append('{');
                foreach (var (name, value) in obj)
                {
                    for (var copy = 0; copy < 2; copy++)
                    {
                        text.Append(text[^1] == '{' ? "" : ",").Append(HostileValues.Quote(name)).Append(':');
                        WriteTwice(value, text);
                    }
                }

                text.Append('}');
                break;
            case JsonArray array:
                text.Append('[');
                foreach (var item in array)
                {
                    text.Append(text[^1] == '[' ? "" : ",");
                    WriteTwice(item, text);
                }

                text.Append(']');
                break;
            default:
                text.Append(Json(node));
                break;
        }
    }

    private static string Unique(string text) => text.Replace("{unique}", Guid.NewGuid().ToString("N"), StringComparison.Ordinal);

    private static string Json(JsonNode? value) => value?.ToJsonString(Relaxed) ?? "null";

    private static string Render(JsonNode node) => node.ToJsonString(Relaxed);
}
