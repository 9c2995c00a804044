namespace Platform.Hosting.ApplicationModel;

/// <summary>A named part of the distributed application: a server, a database, a parameter or a project.</summary>
public abstract class Resource(string name)
{
    public string Name { get; } = name;

    /// <summary>Resources this one must see healthy before it starts.</summary>
    public List<Resource> WaitsFor { get; } = [];
}

/// <summary>A resource other resources connect to through <c>ConnectionStrings__{name}</c>.</summary>
public interface IResourceWithConnectionString
{
    string Name { get; }

    /// <summary>The manifest expression, e.g. <c>{postgres.connectionString};Database=appdb</c>.</summary>
    string ConnectionStringExpression { get; }
}
