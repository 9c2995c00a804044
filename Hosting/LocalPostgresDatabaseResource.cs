using Aspire.Hosting.ApplicationModel;

namespace Platform.Hosting;

/// <summary>A database on a <see cref="LocalPostgresServerResource"/>, created when the server is first ready.</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public LocalPostgresServerResource Parent { get; } = parent;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        .. ((IResourceWithConnectionString)Parent).GetConnectionProperties().Where(p => p.Key != "Uri"),
        new("DatabaseName", ReferenceExpression.Create($"{DatabaseName}")),
        new("Uri", ReferenceExpression.Create($"postgresql://{LocalPostgresServerResource.UserName}:{Parent.PasswordParameter:uri}@{Parent.Host}:{Parent.Port}/{DatabaseName}")),
    ];
}
