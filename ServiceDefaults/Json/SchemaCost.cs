using NJsonSchema;

namespace Platform.ServiceDefaults.Json;

/// <summary>
/// The work validating one value against a compiled schema can take. NJsonSchema applies <c>$ref</c>, <c>allOf</c>,
/// <c>anyOf</c>, <c>oneOf</c> and <c>not</c> to the same value, recursively and without a limit: a cycle of them
/// (<c>{"not":{"$ref":"#"}}</c>) overflows the stack, which ends the process, and branches that lead to the same
/// subschema multiply the work at every level of the value. Counted for a value as deep as arguments can be (the input
/// guard's 64 levels): the subschemas applied along one path to a value, and the longest such chain.
/// </summary>
internal static class SchemaCost
{
    private const int MaxDepth = 64;
    private const int MaxApplied = 10_000;
    private const int MaxChain = 512;

    public static string? Problem(JsonSchema root)
    {
        var memo = new Dictionary<(JsonSchema, int), (int Applied, int Chain)>(new ByIdentity());
        try
        {
            var (applied, chain) = Measure(root, MaxDepth, memo, new HashSet<(JsonSchema, int)>(new ByIdentity()));
            return applied > MaxApplied || chain > MaxChain
                ? $"validating a value against it could apply {(applied > MaxApplied ? $"more than {MaxApplied}" : applied)} subschemas in chains up to {chain} long (at most {MaxApplied} and {MaxChain}): branches of allOf, anyOf, oneOf or $ref lead to the same subschemas too often"
                : null;
        }
        catch (CycleException)
        {
            return "$ref, allOf, anyOf, oneOf or not refer back to a schema that applies to the same value, which would never end";
        }
    }

    private static (int Applied, int Chain) Measure(JsonSchema schema, int depth, Dictionary<(JsonSchema, int), (int, int)> memo, HashSet<(JsonSchema, int)> onPath)
    {
        if (memo.TryGetValue((schema, depth), out var known))
        {
            return known;
        }

        if (onPath.Count >= MaxChain)
        {
            return (MaxApplied + 1, MaxChain + 1);
        }

        if (!onPath.Add((schema, depth)))
        {
            throw new CycleException();
        }

        var applied = 1;
        var chain = 1;
        foreach (var next in SameValue(schema))
        {
            var (a, c) = Measure(next, depth, memo, onPath);
            (applied, chain) = (Math.Min(applied + a, MaxApplied + 1), Math.Max(chain, c + 1));
        }

        if (depth > 0)
        {
            var deepest = 0;
            foreach (var child in ChildValues(schema))
            {
                var (a, c) = Measure(child, depth - 1, memo, onPath);
                (deepest, chain) = (Math.Max(deepest, a), Math.Max(chain, c + 1));
            }

            applied = Math.Min(applied + deepest, MaxApplied + 1);
        }

        onPath.Remove((schema, depth));
        memo[(schema, depth)] = (applied, chain);
        return (applied, chain);
    }

    private static IEnumerable<JsonSchema> SameValue(JsonSchema schema) =>
        new[] { schema.Reference, schema.Not }.OfType<JsonSchema>().Concat(schema.AllOf).Concat(schema.AnyOf).Concat(schema.OneOf);

    private static IEnumerable<JsonSchema> ChildValues(JsonSchema schema) =>
        new[] { schema.AdditionalPropertiesSchema, schema.AdditionalItemsSchema, schema.Item }.OfType<JsonSchema>()
            .Concat(schema.Properties.Values).Concat(schema.PatternProperties.Values).Concat(schema.Items);

    private sealed class CycleException : Exception;

    private sealed class ByIdentity : IEqualityComparer<(JsonSchema Schema, int Depth)>
    {
        public bool Equals((JsonSchema Schema, int Depth) x, (JsonSchema Schema, int Depth) y) => ReferenceEquals(x.Schema, y.Schema) && x.Depth == y.Depth;

        public int GetHashCode((JsonSchema Schema, int Depth) obj) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Schema), obj.Depth);
    }
}
