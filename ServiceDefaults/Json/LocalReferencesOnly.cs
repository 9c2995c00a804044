using NJsonSchema;
using NJsonSchema.References;

namespace Platform.ServiceDefaults.Json;

/// <summary>
/// Resolves references within the schema only. NJsonSchema would otherwise fetch <c>http(s)</c> references and read
/// files, from inside the platform, for whoever registered the schema: such references are refused, never followed.
/// </summary>
internal sealed class LocalReferencesOnly(JsonSchema root) : JsonReferenceResolver(new JsonSchemaAppender(root, new DefaultTypeNameGenerator()))
{
    public override Task<IJsonReference> ResolveFileReferenceAsync(string filePath, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"'{filePath}' is outside the schema; only references within it ('#/…') are resolved.");

    public override Task<IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"'{url}' is outside the schema; only references within it ('#/…') are resolved.");
}
