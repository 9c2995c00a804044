using Platform.Orchestrator.Webhooks;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Orchestrator.Apis;

public static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/webhooks/secret", GetSecret).WithTags("Webhooks").RequireScope(Scopes.Admin);
        return app;
    }

    /// <summary>The secret this tenant's webhook signatures are made with; it changes when the platform's secrets key is rotated.</summary>
    public static IResult GetSecret(HttpContext context, WebhookSigner signer) =>
        TypedResults.Ok(new WebhookSecretDto(signer.SecretFor(context.User.TenantId()), "v1=hex(HMAC-SHA256(secret, \"{X-Platform-Timestamp}.{body}\"))"));
}

public sealed record WebhookSecretDto(string Secret, string Signature);
