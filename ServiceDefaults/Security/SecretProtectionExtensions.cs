using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.ServiceDefaults.Security;

public static class SecretProtectionExtensions
{
    /// <summary>Encryption at rest for a service that stores tenants' secrets, keyed by the AppHost's <c>secrets-key</c>.</summary>
    public static IHostApplicationBuilder AddSecretProtection(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecretProtectionOptions>().BindConfiguration("Secrets")
            .Validate(o => o.Key is { Length: >= 16 }, "Secrets:Key must be set (at least 16 characters).").ValidateOnStart();
        builder.Services.AddSingleton<SecretProtector>();
        return builder;
    }
}
