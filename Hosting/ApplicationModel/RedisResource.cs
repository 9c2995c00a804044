namespace Platform.Hosting.ApplicationModel;

public sealed class RedisResource(string name, ParameterResource password, int? port)
    : Resource(name), IResourceWithConnectionString
{
    public const string Image = "docker.io/library/redis";
    public const string Tag = "8.2";

    public ParameterResource Password { get; } = password;

    /// <summary>The host port in run mode; null picks a free one.</summary>
    public int? Port { get; } = port;

    public string ConnectionStringExpression =>
        $"{{{Name}.bindings.tcp.host}}:{{{Name}.bindings.tcp.port}},password={Password.ValueExpression}";
}
