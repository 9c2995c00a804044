namespace Platform.Hosting.ApplicationModel;

public sealed class PostgresServerResource(string name, ParameterResource password, int? port)
    : Resource(name), IResourceWithConnectionString
{
    public const string Image = "docker.io/library/postgres";
    public const string Tag = "17.6";
    public const string UserName = "postgres";

    public ParameterResource Password { get; } = password;

    /// <summary>The host port in run mode; null picks a free one.</summary>
    public int? Port { get; } = port;

    public List<PostgresDatabaseResource> Databases { get; } = [];

    public string ConnectionStringExpression =>
        $"Host={{{Name}.bindings.tcp.host}};Port={{{Name}.bindings.tcp.port}};Username={UserName};Password={Password.ValueExpression}";
}

public sealed class PostgresDatabaseResource(string name, PostgresServerResource server)
    : Resource(name), IResourceWithConnectionString
{
    public PostgresServerResource Server { get; } = server;

    public string ConnectionStringExpression => $"{{{Server.Name}.connectionString}};Database={Name}";
}
