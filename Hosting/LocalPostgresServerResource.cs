using Aspire.Hosting.ApplicationModel;

namespace Platform.Hosting;

/// <summary>
/// The machine's own PostgreSQL server run as a local process over a data folder of the AppHost's: what
/// <c>AddPostgres</c>'s container is where no container runtime exists. Same user, endpoint name and connection string.
/// </summary>
public sealed class LocalPostgresServerResource(string name, ParameterResource password, string dataDirectory)
    : ExecutableResource(name, "postgres", dataDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";
    public const string UserName = "postgres";

    private readonly Dictionary<string, string> _databases = new(StringComparer.OrdinalIgnoreCase);

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>The folder holding PostgreSQL's data folder, its backups and its marker files.</summary>
    public string DataDirectory { get; } = dataDirectory;

    /// <summary>Database resource names and the databases they stand for, created once the server is ready.</summary>
    public IReadOnlyDictionary<string, string> Databases => _databases;

    public EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);

    public EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host={Host};Port={Port};Username={UserName};Password={PasswordParameter}");

    internal void AddDatabase(string name, string databaseName) => _databases.TryAdd(name, databaseName);

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{Host}")),
        new("Port", ReferenceExpression.Create($"{Port}")),
        new("Username", ReferenceExpression.Create($"{UserName}")),
        new("Password", ReferenceExpression.Create($"{PasswordParameter}")),
        new("Uri", ReferenceExpression.Create($"postgresql://{UserName}:{PasswordParameter:uri}@{Host}:{Port}")),
    ];
}
