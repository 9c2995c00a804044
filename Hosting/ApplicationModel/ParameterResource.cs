namespace Platform.Hosting.ApplicationModel;

/// <summary>An input of the app model; read from <c>Parameters:{name}</c> or, when generated, created once and kept.</summary>
public sealed class ParameterResource(string name, bool secret, GenerateParameterDefault? generate) : Resource(name)
{
    public bool Secret { get; } = secret;

    public GenerateParameterDefault? Generate { get; } = generate;

    public string ValueExpression => $"{{{Name}.value}}";
}

/// <summary>How a generated parameter is made; mirrors Aspire's <c>GenerateParameterDefault</c>.</summary>
public sealed record GenerateParameterDefault(int MinLength = 22, bool Special = true);
