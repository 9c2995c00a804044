using Aspire.Hosting.ApplicationModel;

namespace Platform.Hosting;

/// <summary>
/// The machine's own Redis server run as a local process, with append-only persistence in a data folder of the AppHost's:
/// what <c>AddRedis</c>'s container is where no container runtime exists.
/// </summary>
public sealed class LocalRedisResource(string name, ParameterResource password, string dataDirectory)
    : ExecutableResource(name, "redis-server", dataDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    public ParameterResource PasswordParameter { get; } = password;

    public string DataDirectory { get; } = dataDirectory;

    public EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);

    public EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},password={PasswordParameter}");

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{Host}")),
        new("Port", ReferenceExpression.Create($"{Port}")),
        new("Password", ReferenceExpression.Create($"{PasswordParameter}")),
        new("Uri", ReferenceExpression.Create($"redis://:{PasswordParameter:uri}@{Host}:{Port}")),
    ];
}
