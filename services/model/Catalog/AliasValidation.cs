using System.Globalization;
using System.Text.RegularExpressions;
using Platform.Model.Providers;
using Platform.ServiceDefaults.Net;

namespace Platform.Model.Catalog;

/// <summary>
/// What a tenant may store as an alias: every value within <see cref="DeploymentBounds"/>, names that can go in a
/// response header, URLs the providers can append a path to, keys that can go in a request header. Each problem is
/// reported under the field it is about, e.g. <c>deployments[1].attemptTimeout</c>.
/// </summary>
public static partial class AliasValidation
{
    public static readonly string[] Strategies = ["ordered", "weighted", "lowest-latency"];

    public static Dictionary<string, string[]> Check(string alias, AliasDefinition definition, ProviderRegistry providers)
    {
        var errors = new Dictionary<string, string[]>();
        if (!AliasPattern().IsMatch(alias))
        {
            errors["alias"] = ["An alias is 1 to 100 letters, digits, '.', '-', '_', ':' or '/'."];
        }

        if (!Strategies.Contains(definition.Strategy))
        {
            errors["strategy"] = [$"One of: {string.Join(", ", Strategies)}."];
        }

        if (definition.Deployments is not { Count: > 0 and <= DeploymentBounds.MaxDeployments })
        {
            errors["deployments"] = [$"An alias has 1 to {DeploymentBounds.MaxDeployments} deployments."];
            return errors;
        }

        for (var i = 0; i < definition.Deployments.Count; i++)
        {
            if (definition.Deployments[i] is { } deployment)
            {
                CheckDeployment(deployment, $"deployments[{i}]", providers, errors);
            }
            else
            {
                errors[$"deployments[{i}]"] = ["A deployment is an object."];
            }
        }

        return errors;
    }

    private static void CheckDeployment(DeploymentDefinition deployment, string path, ProviderRegistry providers, Dictionary<string, string[]> errors)
    {
        void Fail(string field, string message) => errors[$"{path}.{field}"] = [message];

        if (deployment.Name is not null && !NamePattern().IsMatch(deployment.Name))
        {
            Fail("name", $"A deployment name is 1 to {DeploymentBounds.MaxNameLength} letters, digits, '.', '-', '_', ':', '/', '@' or '+'.");
        }

        if (deployment.Provider is null || !providers.Has(deployment.Provider))
        {
            Fail("provider", $"One of: {string.Join(", ", providers.Names)}.");
        }

        if (deployment.BaseUrl is not null || deployment.Provider is not (null or SimulatorProvider.ProviderName or LocalEmbeddingProvider.ProviderName))
        {
            if (BaseUrlProblem(deployment.BaseUrl) is { } problem)
            {
                Fail("baseUrl", problem);
            }
        }

        if (string.IsNullOrWhiteSpace(deployment.Model) || deployment.Model.Length > DeploymentBounds.MaxModelLength || deployment.Model.Any(char.IsControl))
        {
            Fail("model", $"The upstream model is 1 to {DeploymentBounds.MaxModelLength} characters, none of them control characters.");
        }

        if (deployment.ApiKey is not null && !ApiKeyPattern().IsMatch(deployment.ApiKey))
        {
            Fail("apiKey", $"An API key is 1 to {DeploymentBounds.MaxApiKeyLength} printable ASCII characters without spaces.");
        }

        var maxPrice = DeploymentBounds.MaxPricePerMillion.ToString("N0", CultureInfo.InvariantCulture);
        if (deployment.InputPricePerMillion is < 0 or > DeploymentBounds.MaxPricePerMillion)
        {
            Fail("inputPricePerMillion", $"A price is 0 to {maxPrice} US dollars per million tokens.");
        }

        if (deployment.OutputPricePerMillion is < 0 or > DeploymentBounds.MaxPricePerMillion)
        {
            Fail("outputPricePerMillion", $"A price is 0 to {maxPrice} US dollars per million tokens.");
        }

        if (deployment.ContextWindow is < 1 or > DeploymentBounds.MaxContextWindow)
        {
            Fail("contextWindow", $"A context window is 1 to {DeploymentBounds.MaxContextWindow:N0} tokens.");
        }

        if (deployment.Weight is < 1 or > DeploymentBounds.MaxWeight)
        {
            Fail("weight", $"A weight is 1 to {DeploymentBounds.MaxWeight}.");
        }

        if (deployment.AttemptTimeout is { } timeout && (timeout < DeploymentBounds.MinAttemptTimeout || timeout > DeploymentBounds.MaxAttemptTimeout))
        {
            Fail("attemptTimeout", "An attempt timeout is 1 second to 10 minutes, e.g. \"00:00:30\".");
        }

        if (deployment.Rpm is < 1 or > DeploymentBounds.MaxRpm)
        {
            Fail("rpm", $"Requests per minute are 1 to {DeploymentBounds.MaxRpm:N0}.");
        }

        if (deployment.Tpm is < 1 or > DeploymentBounds.MaxTpm)
        {
            Fail("tpm", $"Tokens per minute are 1 to {DeploymentBounds.MaxTpm:N0}.");
        }
    }

    /// <summary>Providers append their path (<c>/chat/completions</c>…) to the base URL, so it has no query or fragment.</summary>
    private static string? BaseUrlProblem(string? value)
    {
        if (!HttpUrl.TryParse(value, out var url, out var problem))
        {
            return problem == HttpUrl.CredentialsProblem ? "The URL carries credentials; put the key in 'apiKey', which is stored encrypted." : $"{problem} This provider needs one.";
        }

        return url.Query.Length > 0 || url.Fragment.Length > 0 ? "The base URL has no query or fragment: the provider's path is appended to it." : null;
    }

    [GeneratedRegex("^[A-Za-z0-9._:/-]{1,100}\\z")]
    private static partial Regex AliasPattern();

    [GeneratedRegex("^[A-Za-z0-9._:/@+-]{1,128}\\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[\\x21-\\x7E]{1,4096}\\z")]
    private static partial Regex ApiKeyPattern();
}
