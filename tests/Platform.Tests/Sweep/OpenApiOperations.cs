using System.Text.Json.Nodes;

namespace Platform.Tests.Sweep;

/// <summary>Every operation a service's OpenAPI document declares, so an endpoint added later is swept without naming it.</summary>
public static class OpenApiOperations
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    public static async Task<IReadOnlyList<SweepOperation>> ReadAsync(HttpClient client, string service)
    {
        var document = JsonNode.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!.AsObject();
        var operations = new List<SweepOperation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var method in Methods)
            {
                if (item?[method] is not JsonObject operation)
                {
                    continue;
                }

                var parameters = (item["parameters"] as JsonArray ?? []).Concat(operation["parameters"] as JsonArray ?? [])
                    .Select(p => Schemas.Resolve(document, p))
                    .Select(p => new SweepParameter((string)p!["name"]!, (string)p["in"]!, p["schema"]))
                    .ToList();
                var body = Schemas.Resolve(document, operation["requestBody"]);
                operations.Add(new SweepOperation(service, method.ToUpperInvariant(), path, parameters,
                    body?["content"]?["application/json"]?["schema"], body?["required"]?.GetValue<bool>() ?? false, document));
            }
        }

        if (service == "dashboard")
        {
            // Pages a browser loads are left out of the OpenAPI document, so they are named here. Sign-in pages commonly
            // take a return address, a classic way to reflect a script or redirect elsewhere: each page gets one.
            SweepParameter[] returnUrl = [new("returnUrl", "query", null)];
            operations.AddRange(
            [
                new(service, "GET", "/login", returnUrl, null, false, document, IsPage: true),
                new(service, "POST", "/login", returnUrl, null, false, document, IsPage: true, FormFields: ["apiKey"]),
                new(service, "POST", "/logout", returnUrl, null, false, document, IsPage: true),
                new(service, "GET", "/", returnUrl, null, false, document, IsPage: true),
            ]);
        }

        return operations;
    }
}
