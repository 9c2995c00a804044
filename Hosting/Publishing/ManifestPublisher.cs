using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Publishing;

/// <summary>Writes the app model as an Aspire 9.x manifest (<c>aspire-manifest.json</c>) for azd and aspirate.</summary>
public static class ManifestPublisher
{
    private const string SchemaUrl = "https://json.schemastore.org/aspire-8.0.json";

    public static void Write(IReadOnlyList<Resource> resources, string manifestPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(manifestPath)!);
        File.WriteAllText(manifestPath, Render(resources, Path.GetDirectoryName(manifestPath)!), new UTF8Encoding(false));
    }

    public static string Render(IReadOnlyList<Resource> resources, string manifestDirectory)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("$schema", SchemaUrl);
            json.WriteStartObject("resources");
            foreach (var resource in resources.Where(r => r is not ParameterResource).Concat(resources.OfType<ParameterResource>()))
            {
                json.WriteStartObject(resource.Name);
                switch (resource)
                {
                    case PostgresServerResource postgres: WritePostgres(json, postgres); break;
                    case PostgresDatabaseResource database: WriteDatabase(json, database); break;
                    case RedisResource redis: WriteRedis(json, redis); break;
                    case ProjectResource project: WriteProject(json, project, manifestDirectory); break;
                    case ParameterResource parameter: WriteParameter(json, parameter); break;
                    default: throw new InvalidOperationException($"No manifest form for {resource.GetType().Name}.");
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WritePostgres(Utf8JsonWriter json, PostgresServerResource postgres)
    {
        json.WriteString("type", "container.v0");
        json.WriteString("connectionString", postgres.ConnectionStringExpression);
        json.WriteString("image", $"{PostgresServerResource.Image}:{PostgresServerResource.Tag}");
        json.WriteStartObject("env");
        json.WriteString("POSTGRES_HOST_AUTH_METHOD", "scram-sha-256");
        json.WriteString("POSTGRES_INITDB_ARGS", "--auth-host=scram-sha-256 --auth-local=scram-sha-256");
        json.WriteString("POSTGRES_USER", PostgresServerResource.UserName);
        json.WriteString("POSTGRES_PASSWORD", postgres.Password.ValueExpression);
        json.WriteEndObject();
        WriteTcpBinding(json, 5432);
    }

    private static void WriteDatabase(Utf8JsonWriter json, PostgresDatabaseResource database)
    {
        json.WriteString("type", "value.v0");
        json.WriteString("connectionString", database.ConnectionStringExpression);
    }

    private static void WriteRedis(Utf8JsonWriter json, RedisResource redis)
    {
        json.WriteString("type", "container.v0");
        json.WriteString("connectionString", redis.ConnectionStringExpression);
        json.WriteString("image", $"{RedisResource.Image}:{RedisResource.Tag}");
        json.WriteString("entrypoint", "/bin/sh");
        json.WriteStartArray("args");
        json.WriteStringValue("-c");
        json.WriteStringValue("redis-server --requirepass $REDIS_PASSWORD");
        json.WriteEndArray();
        json.WriteStartObject("env");
        json.WriteString("REDIS_PASSWORD", redis.Password.ValueExpression);
        json.WriteEndObject();
        WriteTcpBinding(json, 6379);
    }

    private static void WriteTcpBinding(Utf8JsonWriter json, int targetPort)
    {
        json.WriteStartObject("bindings");
        json.WriteStartObject("tcp");
        json.WriteString("scheme", "tcp");
        json.WriteString("protocol", "tcp");
        json.WriteString("transport", "tcp");
        json.WriteNumber("targetPort", targetPort);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteProject(Utf8JsonWriter json, ProjectResource project, string manifestDirectory)
    {
        json.WriteString("type", "project.v0");
        json.WriteString("path", Path.GetRelativePath(manifestDirectory, project.Metadata.ProjectPath).Replace('\\', '/'));
        json.WriteStartObject("env");
        json.WriteString("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES", "true");
        json.WriteString("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES", "true");
        json.WriteString("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY", "in_memory");
        json.WriteString("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true");
        json.WriteString("HTTP_PORTS", $"{{{project.Name}.bindings.http.targetPort}}");
        foreach (var reference in project.ConnectionReferences)
        {
            json.WriteString($"ConnectionStrings__{reference.Name}", $"{{{reference.Name}.connectionString}}");
        }

        foreach (var service in project.ServiceReferences)
        {
            json.WriteString($"services__{service.Name}__http__0", $"{{{service.Name}.bindings.http.url}}");
            json.WriteString($"services__{service.Name}__https__0", $"{{{service.Name}.bindings.https.url}}");
        }

        foreach (var (name, value) in project.Environment)
        {
            json.WriteString(name, value is ParameterResource parameter ? parameter.ValueExpression : (string)value);
        }

        json.WriteEndObject();
        json.WriteStartObject("bindings");
        foreach (var scheme in new[] { "http", "https" })
        {
            json.WriteStartObject(scheme);
            json.WriteString("scheme", scheme);
            json.WriteString("protocol", "tcp");
            json.WriteString("transport", "http");
            if (project.ExternalHttpEndpoints)
            {
                json.WriteBoolean("external", true);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void WriteParameter(Utf8JsonWriter json, ParameterResource parameter)
    {
        json.WriteString("type", "parameter.v0");
        json.WriteString("value", $"{{{parameter.Name}.inputs.value}}");
        json.WriteStartObject("inputs");
        json.WriteStartObject("value");
        json.WriteString("type", "string");
        if (parameter.Secret)
        {
            json.WriteBoolean("secret", true);
        }

        if (parameter.Generate is { } generate)
        {
            json.WriteStartObject("default");
            json.WriteStartObject("generate");
            json.WriteNumber("minLength", generate.MinLength);
            if (!generate.Special)
            {
                json.WriteBoolean("special", false);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}
